import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { startLocalPostgres } from '../scripts/lib/local-postgres.ts';
import { migrate } from '../scripts/lib/migrations/engine.ts';
import { withMigrationSession } from '../scripts/lib/migrations/session.ts';
import { ensureDatabase, openNodeDatabase } from '../scripts/lib/node-database.ts';
import { findFreePort } from '../scripts/lib/ports.ts';
import { reencryptTokens } from '../scripts/lib/token-reencryption.ts';
import { generateMasterKey, loadTokenKeyring } from '../src/crypto/token-cipher.ts';

const root = await mkdtemp(path.join(tmpdir(), 'rate-'));
await chmod(root, 0o755);
const pg = await startLocalPostgres({
  dataDir: path.join(root, 'd'),
  port: await findFreePort(),
  persistent: false,
  fast: false,
});
await ensureDatabase(pg.url(), 'x');
const t0 = performance.now();
await withMigrationSession(pg.url('x'), ({ session }) =>
  migrate({ session, migrationsDir: 'migrations', log: () => {} }),
);
console.log('full history on empty db:', Math.round(performance.now() - t0), 'ms');
const db = await openNodeDatabase(pg.url('x'));
await db.db.execute(sql`insert into users (id, github_user_id, access_token, refresh_token, created_at, updated_at)
  select gen_random_uuid(), i::text, 'ghu_' || md5(i::text), 'ghr_' || md5(i::text || 'r'), now(), now() from generate_series(1, ${Number(process.env.ROWS ?? 10000)}::int) i`);
const keyring = await loadTokenKeyring(generateMasterKey());
for (const batchSize of [500, 2000]) {
  await db.db.execute(
    sql`update users set access_token = 'ghu_' || md5(github_user_id), refresh_token = 'ghr_' || md5(github_user_id || 'r')`,
  );
  const report = await reencryptTokens({
    db: db.db,
    keyring,
    mode: 'encrypt-plaintext',
    dryRun: false,
    batchSize,
    log: () => {},
  });
  console.log(
    `batch ${batchSize}: ${report.rows} rows, ${report.encrypted} tokens, ${report.elapsedMs} ms, ${Math.round((report.rows / report.elapsedMs) * 1000)} rows/s, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`,
  );
}
await db.close();
await pg.stop();
