import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrate, migrationStatus, resolveMigration } from '../../../scripts/lib/migrations/engine.ts';
import { formatStatus, HISTORICAL_MIGRATIONS } from '../../../scripts/lib/migrations/format-status.ts';
import { diffSchemaAgainstDatabase } from '../../../scripts/lib/migrations/schema-diff.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';
import { withEngine } from '../../support/node/migrations.ts';

/**
 * Lays out a database the way the old Prisma system left it: the same schema, made from SQL files
 * that differ from this project's byte for byte (Prisma's own formatting, no comments), and
 * `_prisma_migrations` in Prisma's exact DDL with one finished row per migration and Prisma's
 * checksums of those other files.
 */
async function prismaMigratedDatabase(): Promise<string> {
  const url = await createDatabase({ migrated: false });
  await withDatabaseHandle(url, async ({ db }) => {
    await db.execute(
      sql.raw(`CREATE TABLE "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`),
    );
    for (const name of [...HISTORICAL_MIGRATIONS].sort()) {
      const ours = readFileSync(path.join('migrations', name, 'migration.sql'), 'utf8');
      const theirs = ours
        .split('\n')
        .filter((line) => !line.startsWith('--'))
        .join('\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim();
      const client = await db.$client.connect();
      try {
        await client.query(theirs);
      } finally {
        client.release();
      }
      await db.execute(sql`insert into _prisma_migrations
          (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
          values (${crypto.randomUUID()}, ${createHash('sha256').update(theirs).digest('hex')}, now(), ${name}, null, null, now(), 1)`);
    }
    await db.execute(sql`insert into users (id, github_user_id, access_token, created_at, updated_at)
                         values (gen_random_uuid(), '583231', 'gho_plaintext_from_the_old_days', now(), now())`);
  });
  return url;
}

describe('adopting a database the old Prisma system migrated', () => {
  it('recognises its migrations by name, explains the checksum difference, re-runs nothing and applies newer ones', async () => {
    const url = await prismaMigratedDatabase();
    const newer = '20260101000000_add_nickname';
    const later = repositoryMigrations().filter((name) => !HISTORICAL_MIGRATIONS.has(name));
    const folder = migrationsFolder({ [newer]: 'ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "nickname" TEXT;\n' });

    const before = await withEngine(url, folder, (options) => migrationStatus(options));
    expect(before.result.map((status) => status.state)).toEqual([
      ...['modified', 'modified', 'modified', 'modified'],
      ...[newer, ...later].map(() => 'pending'),
    ]);
    const explained = formatStatus(before.result);
    expect(explained).toContain('Modified, from the old system: 20241211000000_initial_setup');
    expect(explained).toContain('Nothing is re-run');
    expect(explained).toContain('npx gateway db resolve --applied NAME');

    const cli = await runOperatorCommand('db-migrate-status', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder });
    expect(cli.code).toBe(1);
    expect(cli.output).toContain('from the old system');

    const run = await withEngine(url, folder, (options) => migrate(options));
    expect(run.result.applied).toEqual([newer, ...later]);
    expect(run.lines.filter((line) => line.includes('changed after it was applied'))).toHaveLength(4);

    await withDatabaseHandle(url, async ({ db }) => {
      // Re-running initial_setup would have brought back the index the sync migration dropped.
      const index = await db.execute(sql`select 1 from pg_indexes where indexname = 'users_is_whitelisted_idx'`);
      expect(index.rows).toHaveLength(0);
      const ledger = await db.execute<{ count: number }>(sql`select count(*)::int as count from _prisma_migrations`);
      expect(ledger.rows[0]?.count).toBe(4 + 1 + later.length);
      const kept = await db.execute<{ token: string }>(sql`select access_token as token from users`);
      expect(kept.rows[0]?.token).toBe('gho_plaintext_from_the_old_days');
    });

    for (const status of before.result.filter((candidate) => candidate.state === 'modified')) {
      await withEngine(url, folder, (options) => resolveMigration(options, { applied: status.name }));
    }
    const after = await runOperatorCommand('db-migrate-status', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder });
    expect(after.code).toBe(0);
    expect(after.output).toContain(`Up to date: ${4 + 1 + later.length} migrations applied.`);
  });

  it('ends with the schema this project expects once the newer migrations apply', async () => {
    const url = await prismaMigratedDatabase();
    await withEngine(url, migrationsFolder(), (options) => migrate(options));
    const diff = await withDatabaseHandle(url, ({ db }) => diffSchemaAgainstDatabase(db));
    expect(diff.statements).toEqual([]);
  });
});
