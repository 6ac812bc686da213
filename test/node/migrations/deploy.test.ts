import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrate, migrationStatus, resolveMigration } from '../../../scripts/lib/migrations/engine.ts';
import { MigrationError } from '../../../scripts/lib/migrations/errors.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
  writeMigrationFile,
} from '../../support/node/databases.ts';
import { withEngine } from '../../support/node/migrations.ts';
import { rejectionOf } from '../../support/rejection.ts';

const HISTORY = [
  '20241211000000_initial_setup',
  '20251212003115_add_service_registry',
  '20251212003212_',
  '20251213000000_encrypt_github_tokens',
];

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, MigrationError);

describe('db:migrate on an empty database', () => {
  it('applies the four historical migrations in order, then finds nothing to do', async () => {
    const url = await createDatabase({ migrated: false });
    const folder = migrationsFolder();

    const first = await withEngine(url, folder, (options) => migrate(options));
    expect(first.result.applied).toEqual(repositoryMigrations());
    expect(first.result.applied.slice(0, 4)).toEqual(HISTORY);

    const statuses = await withEngine(url, folder, (options) => migrationStatus(options));
    expect(statuses.result.map((status) => [status.name, status.state])).toEqual(
      repositoryMigrations().map((name) => [name, 'applied']),
    );

    const second = await withEngine(url, folder, (options) => migrate(options));
    expect(second.result.applied).toEqual([]);
    expect(second.lines).toContain('Database is up to date: no pending migrations.');

    await withDatabaseHandle(url, async ({ db }) => {
      const ledger = await db.execute<{ migration_name: string; steps: number; checksum: string }>(
        sql`select migration_name, applied_steps_count as steps, checksum from _prisma_migrations order by started_at`,
      );
      expect(ledger.rows.map((row) => row.migration_name)).toEqual(repositoryMigrations());
      expect(ledger.rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum))).toBe(true);
      // What the seed says the history leaves behind.
      const defaults = await db.execute<{ column_name: string; column_default: string | null }>(
        sql`select column_name, column_default from information_schema.columns
             where table_name = 'users' and column_name in ('id', 'created_at', 'updated_at', 'is_whitelisted')
             order by column_name`,
      );
      expect(defaults.rows).toEqual([
        { column_name: 'created_at', column_default: null },
        { column_name: 'id', column_default: null },
        { column_name: 'is_whitelisted', column_default: 'false' },
        { column_name: 'updated_at', column_default: null },
      ]);
      const indexes = await db.execute<{ indexname: string }>(
        sql`select indexname from pg_indexes where tablename = 'users' order by indexname`,
      );
      const names = indexes.rows.map((row) => row.indexname);
      expect(names).toContain('users_github_user_id_key');
      expect(names).not.toContain('users_is_whitelisted_idx');
      expect(names).not.toContain('users_created_at_idx');
      const comment = await db.execute<{ comment: string }>(
        sql`select col_description('users'::regclass, 3) as comment`,
      );
      expect(comment.rows[0]?.comment).toContain('encrypted');
      // The updated_at trigger still works after the sync migration removed the default.
      await db.execute(sql`insert into users (id, github_user_id, created_at, updated_at)
                           values (gen_random_uuid(), '1', now() - interval '1 day', now() - interval '1 day')`);
      await db.execute(sql`update users set is_whitelisted = true`);
      const touched = await db.execute<{ fresh: boolean }>(
        sql`select updated_at > now() - interval '1 minute' as fresh from users`,
      );
      expect(touched.rows[0]?.fresh).toBe(true);
    });
  });
});

describe('a failing migration', () => {
  it('is recorded as failed; deploy refuses until resolve --rolled-back, then the fixed file applies', async () => {
    const url = await createDatabase({ migrated: false });
    const broken = '20260101000000_add_login';
    const folder = migrationsFolder({
      [broken]:
        'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\nALTER TABLE "users" ADD COLUMN "nope" NO_SUCH_TYPE;\n',
    });

    const failure = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(failure.code).toBe('migration_failed');
    expect(failure.message).toContain(`Migration ${broken} failed at statement 2 (line 2)`);
    expect(failure.message).toContain('ALTER TABLE "users" ADD COLUMN "nope" NO_SUCH_TYPE');
    expect(failure.message).toContain('type "no_such_type" does not exist');
    expect(failure.message).toContain(`npx gateway db resolve --rolled-back ${broken}`);

    await withDatabaseHandle(url, async ({ db }) => {
      // Statement 1 rolled back with the rest: the column does not exist.
      const column = await db.execute(
        sql`select 1 from information_schema.columns where table_name = 'users' and column_name = 'nickname'`,
      );
      expect(column.rows).toHaveLength(0);
    });
    const statuses = await withEngine(url, folder, (options) => migrationStatus(options));
    const recorded = statuses.result.find((status) => status.name === broken);
    expect(recorded).toMatchObject({ state: 'failed' });
    expect(recorded?.row?.logs).toContain('no_such_type');

    const refused = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(refused.code).toBe('failed_migration_recorded');
    expect(refused.message).toContain(`npx gateway db resolve --rolled-back ${broken}`);
    expect(refused.message).toContain(`npx gateway db resolve --applied ${broken}`);

    await withEngine(url, folder, (options) => resolveMigration(options, { rolledBack: broken }));
    writeMigrationFile(folder, broken, 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n');
    const fixed = await withEngine(url, folder, (options) => migrate(options));
    expect(fixed.result.applied[0]).toBe(broken); // then the repository's newer migrations
    const after = await withEngine(url, folder, (options) => migrationStatus(options));
    expect(after.result.every((status) => status.state === 'applied')).toBe(true);
  });

  it('outside a transaction, records how many statements were applied before it failed', async () => {
    const url = await createDatabase({ migrated: true });
    const name = '20260101000000_two_indexes';
    const folder = migrationsFolder({
      [name]: [
        '-- migrate:no-transaction',
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_expires_at_idx" ON "users"("expires_at");',
        'CREATE INDEX CONCURRENTLY "broken_idx" ON "users"("no_such_column");',
      ].join('\n'),
    });
    const failure = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(failure.message).toContain('1 statement(s) before this one were applied');
    expect(failure.message).toContain(`--applied ${name}`);
    const statuses = await withEngine(url, folder, (options) => migrationStatus(options));
    expect(statuses.result.find((status) => status.name === name)).toMatchObject({
      state: 'failed',
      row: { applied_steps_count: 1 },
    });
  });
});

describe('resolve --applied', () => {
  it('marks a pending migration applied without running it', async () => {
    const url = await createDatabase({ migrated: true });
    const name = '20260101000000_done_by_hand';
    const folder = migrationsFolder({ [name]: 'CREATE TABLE "done_by_hand" (id int);\n' });
    await withEngine(url, folder, (options) => resolveMigration(options, { applied: name }));
    const run = await withEngine(url, folder, (options) => migrate(options));
    expect(run.result.applied).toEqual([]);
    await withDatabaseHandle(url, async ({ db }) => {
      const table = await db.execute<{ found: string | null }>(sql`select to_regclass('done_by_hand') as found`);
      expect(table.rows[0]?.found).toBeNull();
    });
  });

  it('refuses a name that is not a migration of this checkout, suggesting the right one', async () => {
    const url = await createDatabase({ migrated: true });
    const error = await rejection(
      withEngine(url, migrationsFolder(), (options) => resolveMigration(options, { applied: '20251212003212' })),
    );
    expect(error.code).toBe('unknown_migration');
    expect(error.message).toContain('Did you mean 20251212003212_?');
  });

  it('refuses --rolled-back on a migration that did not fail', async () => {
    const url = await createDatabase({ migrated: true });
    const error = await rejection(
      withEngine(url, migrationsFolder(), (options) => resolveMigration(options, { rolledBack: HISTORY[0] ?? '' })),
    );
    expect(error.code).toBe('invalid_state');
    expect(error.message).toContain('is applied, not failed');
  });
});

describe('migrations that cannot run in a transaction', () => {
  it('applies a CREATE INDEX CONCURRENTLY migration marked no-transaction', async () => {
    const url = await createDatabase({ migrated: true });
    const name = '20260101000000_index_expires_at';
    const folder = migrationsFolder({
      [name]:
        '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "users_expires_at_idx" ON "users"("expires_at");\n',
    });
    const run = await withEngine(url, folder, (options) => migrate(options));
    expect(run.result.applied).toEqual([name]);
    await withDatabaseHandle(url, async ({ db }) => {
      const index = await db.execute<{ valid: boolean }>(
        sql`select indisvalid as valid from pg_index where indexrelid = 'users_expires_at_idx'::regclass`,
      );
      expect(index.rows[0]?.valid).toBe(true);
    });
  });

  it('fails with Postgres’s own error when the marker is missing', async () => {
    const url = await createDatabase({ migrated: true });
    const name = '20260101000000_index_unmarked';
    const folder = migrationsFolder({
      [name]: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_expires_at_idx" ON "users"("expires_at");\n',
    });
    const error = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(error.message).toContain('cannot run inside a transaction block');
  });
});

describe('data-losing migrations in deploy', () => {
  const name = '20260101000000_drop_expires_at';
  const drop = 'ALTER TABLE "users" DROP COLUMN "expires_at";\n';

  it('refuses a pending DROP COLUMN, applying nothing, and says how to accept it', async () => {
    const url = await createDatabase({ migrated: true });
    const harmless = '20251231000000_add_login';
    const folder = migrationsFolder({
      [harmless]: 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n',
      [name]: drop,
    });
    const error = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(error.code).toBe('data_loss');
    expect(error.message).toContain(`${name}, line 1: drops column "expires_at" and its data`);
    expect(error.message).toContain('-- migrate:accept-data-loss');
    const statuses = await withEngine(url, folder, (options) => migrationStatus(options));
    expect(statuses.result.filter((status) => status.state === 'pending').map((status) => status.name)).toEqual([
      harmless,
      name,
    ]);
  });

  it('applies it once the file accepts the loss with a reason', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder({ [name]: `-- migrate:accept-data-loss expiry moved to sessions\n${drop}` });
    const run = await withEngine(url, folder, (options) => migrate(options));
    expect(run.result.applied).toEqual([name]);
  });
});

describe('migration folders', () => {
  it('rejects a malformed folder name, naming it and the expected form', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder({ '2026-01-01_add_login': 'SELECT 1;' });
    const error = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(error.code).toBe('malformed_folder');
    expect(error.message).toContain('migrations/2026-01-01_add_login is not a migration folder name');
    expect(error.message).toContain('YYYYMMDDHHMMSS_name');
  });

  it('rejects an impossible date in the name', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder({ '20261332000000_bad_month': 'SELECT 1;' });
    const error = await rejection(withEngine(url, folder, (options) => migrate(options)));
    expect(error.code).toBe('malformed_folder');
  });
});
