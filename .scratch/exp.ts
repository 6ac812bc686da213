import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pushSchema } from 'drizzle-kit/api';
import * as schema from '../drizzle/schema.ts';
import { startLocalPostgres } from '../scripts/lib/local-postgres.ts';
import { ensureDatabase, openNodeDatabase } from '../scripts/lib/node-database.ts';
import { findFreePort } from '../scripts/lib/ports.ts';

const root = await mkdtemp(path.join(tmpdir(), 'exp-'));
await chmod(root, 0o755);
const pg = await startLocalPostgres({
  dataDir: path.join(root, 'd'),
  port: await findFreePort(),
  persistent: false,
  fast: true,
});
await ensureDatabase(pg.url(), 'x');
const db = await openNodeDatabase(pg.url('x'));
const client = await db.db.$client.connect();
for (const dir of readdirSync('migrations').sort()) {
  const t = performance.now();
  await client.query(readFileSync(`migrations/${dir}/migration.sql`, 'utf8'));
  console.log(dir, (performance.now() - t).toFixed(1), 'ms');
}
client.release();
const result = await pushSchema(schema, db.db as never, ['public'], ['!_prisma_migrations']);
console.log(JSON.stringify({ ...result, apply: undefined }, null, 2));
await db.close();
await pg.stop();
