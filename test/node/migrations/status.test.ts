import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../../support/node/commands.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';

const status = (url: string, folder: string) =>
  runOperatorCommand('db-migrate-status', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder });

describe('npx gateway db status', () => {
  it('exits 0 and says up to date when every migration is applied', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await status(url, migrationsFolder());
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/applied\s+20241211000000_initial_setup/);
    expect(result.output).toContain(`Up to date: ${repositoryMigrations().length} migrations applied.`);
  });

  it('exits 1 for a pending migration and says to run db:migrate', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await status(url, migrationsFolder({ '20260101000000_add_login': 'SELECT 1;' }));
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/pending\s+20260101000000_add_login/);
    expect(result.output).toContain('Not up to date: 1 pending.');
    expect(result.output).toContain('run `npx gateway db migrate`');
  });

  it('exits 1 for a failed migration and gives both resolve commands', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder({ '20260101000000_broken': 'SELECT no_such_function();' });
    const deploy = await runOperatorCommand('db-migrate', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder });
    expect(deploy.code).toBe(1);
    expect(deploy.output).toContain('function no_such_function() does not exist');
    const result = await status(url, folder);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /failed\s+20260101000000_broken\s+started .*, did not finish: statement 1 \(line 1\)/,
    );
    expect(result.output).toContain('--rolled-back 20260101000000_broken');
    expect(result.output).toContain('--applied 20260101000000_broken');
  });

  it('exits 1 for a migration edited after it was applied, with both checksums', async () => {
    const url = await createDatabase({ migrated: false });
    const name = '20260101000000_add_login';
    const folder = migrationsFolder({ [name]: 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n' });
    expect((await runOperatorCommand('db-migrate', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder })).code).toBe(0);
    appendFileSync(path.join(folder, name, 'migration.sql'), '-- an edit after the fact\n');
    const result = await status(url, folder);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      new RegExp(`modified\\s+${name}\\s+applied .*; checksum then [0-9a-f]{12}…, file now [0-9a-f]{12}…`),
    );
    expect(result.output).toContain('Applied migrations are not edited: restore the file from git');
  });

  it('exits 1 for a migration the database has and this checkout does not', async () => {
    const url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
                     values (gen_random_uuid()::text, repeat('a', 64), now(), '20270101000000_from_the_future', now(), 1)`),
    );
    const result = await status(url, migrationsFolder());
    expect(result.code).toBe(1);
    expect(result.output).toMatch(
      /unknown\s+20270101000000_from_the_future\s+applied .*; no such folder in this checkout/,
    );
    expect(result.output).toContain('Update the checkout (git pull) before migrating');
  });
});

describe('gateway db status --json', () => {
  const snakeCase = (key: string) => /^[a-z]+(_[a-z]+)*$/.test(key);

  it('prints every migration in snake_case (name, state, applied_at, ...) and exits 0 when up to date', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('db-migrate-status', ['--json'], {
      DATABASE_URL: url,
      MIGRATIONS_DIR: migrationsFolder(),
    });
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.output) as { up_to_date: boolean; migrations: Record<string, unknown>[] };
    expect(parsed.up_to_date).toBe(true);
    expect(parsed.migrations.map((migration) => migration.name)).toEqual(repositoryMigrations());
    const first = parsed.migrations[0] ?? {};
    expect(first).toMatchObject({ name: '20241211000000_initial_setup', state: 'applied' });
    expect(Date.parse(String(first.applied_at))).not.toBeNaN();
    for (const migration of parsed.migrations) expect(Object.keys(migration).every(snakeCase)).toBe(true);
    expect(Object.keys(parsed).every(snakeCase)).toBe(true);
  });

  it('exits 1 unless up to date: a pending migration has state pending and applied_at null', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('db-migrate-status', ['--json'], {
      DATABASE_URL: url,
      MIGRATIONS_DIR: migrationsFolder({ '20270101000000_add_login': 'SELECT 1;' }),
    });
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.output) as { up_to_date: boolean; migrations: Record<string, unknown>[] };
    expect(parsed.up_to_date).toBe(false);
    expect(parsed.migrations.at(-1)).toMatchObject({
      name: '20270101000000_add_login',
      state: 'pending',
      applied_at: null,
    });
  });
});

describe('operator mistakes get a message that says what to do', () => {
  it('a missing DATABASE_URL exits 2 and says where the local one comes from', async () => {
    const result = await runOperatorCommand('db-migrate', [], { MIGRATIONS_DIR: migrationsFolder() });
    expect(result.code).toBe(2);
    expect(result.output).toContain('DATABASE_URL is not set');
    expect(result.output).toContain('`npm run dev`');
    expect(result.output).not.toContain('postgres:postgres@');
  });

  it("Neon's pooled string without DIRECT_DATABASE_URL exits 2 before connecting, and says which one to set", async () => {
    const pooled = 'postgres://operator:s3cret-pass@ep-calm-sea-123456-pooler.eu-central-1.aws.neon.tech/neondb';
    const result = await runOperatorCommand('db-migrate', [], {
      DATABASE_URL: pooled,
      MIGRATIONS_DIR: migrationsFolder(),
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('Set DIRECT_DATABASE_URL');
    expect(result.output).not.toContain('s3cret-pass');
  });

  it('an unreachable database names host, port and database but never the password', async () => {
    const result = await runOperatorCommand('db-migrate-status', [], {
      DATABASE_URL: 'postgres://operator:s3cret-pass@127.0.0.1:1/gateway',
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('Cannot reach the database at 127.0.0.1:1/gateway');
    expect(result.output).not.toContain('s3cret-pass');
  });

  it('an unknown flag exits 2 with the usage line', async () => {
    const result = await runOperatorCommand('db-migrate-resolve', ['--applyed', 'x'], {});
    expect(result.code).toBe(2);
    expect(result.output).toContain('Usage: gateway db resolve --applied <name> | --rolled-back <name>');
  });

  it('resolve with an unknown migration name exits 1 and points at status', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('db-migrate-resolve', ['--applied', 'add_login'], {
      DATABASE_URL: url,
      MIGRATIONS_DIR: migrationsFolder(),
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('There is no migration named "add_login"');
    expect(result.output).toContain('npx gateway db status');
  });

  it('migrate-dev without --name on a database that matches the schema applies nothing and writes nothing, exit 0', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('db-migrate-dev', [], {
      DATABASE_URL: url,
      MIGRATIONS_DIR: migrationsFolder(),
    });
    expect(result.code).toBe(0);
    expect(result.output).toContain('The database matches drizzle/schema.ts: no migration written.');
  });
});
