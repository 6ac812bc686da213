import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { HISTORICAL_MIGRATIONS } from '../../../scripts/lib/migrations/format-status.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import { createDatabase, migrationsFolder, withDatabaseHandle } from '../../support/node/databases.ts';
import { buildOldSystemDatabase } from '../../support/node/old-system-database.ts';

interface StatusJson {
  up_to_date: boolean;
  drift: { table: string | null; kind: string; name: string; difference: string }[] | null;
  drift_compared_with: string | null;
  drift_not_compared_tables: string[];
}

const status = (url: string, args: string[] = [], folder = migrationsFolder()) =>
  runOperatorCommand('db-migrate-status', args, { DATABASE_URL: url, MIGRATIONS_DIR: folder });

const statusJson = async (url: string, folder = migrationsFolder()) => {
  const result = await status(url, ['--json'], folder);
  return { code: result.code, parsed: JSON.parse(result.output) as StatusJson };
};

async function migratedWith(change: string): Promise<string> {
  const url = await createDatabase({ migrated: true });
  await withDatabaseHandle(url, ({ db }) => db.execute(sql.raw(change)));
  return url;
}

describe('gateway db status reports drift: the database changed by hand since its migrations', () => {
  it('reports no drift, exit 0, for a database migrated from empty (compared with a shadow database)', async () => {
    const url = await createDatabase({ migrated: true });
    const text = await status(url);
    expect(text.code).toBe(0);
    expect(text.output).toContain('No drift: the database matches its migrations (compared with a shadow database');
    const json = await statusJson(url);
    expect(json.code).toBe(0);
    expect(json.parsed).toMatchObject({ up_to_date: true, drift: [], drift_compared_with: 'shadow_database' });
  });

  it.each([
    [
      'a column added by hand',
      'alter table users add column nickname text',
      { table: 'users', kind: 'column', name: 'nickname' },
      /^added: the database has text; no migration creates it/,
    ],
    [
      'an index dropped by hand',
      'drop index service_audit_logs_success_idx',
      { table: 'service_audit_logs', kind: 'index', name: 'service_audit_logs_success_idx' },
      /^missing: the migrations create CREATE INDEX service_audit_logs_success_idx .*\(success\)/,
    ],
    [
      'a CHECK constraint added by hand',
      "alter table service_registry add constraint display_name_not_blank check (display_name <> '')",
      { table: 'service_registry', kind: 'constraint', name: 'display_name_not_blank' },
      /^added: the database has CHECK \(\(display_name <> ''::text\)\)/,
    ],
    [
      'the updated_at trigger dropped by hand',
      'drop trigger update_users_updated_at on users',
      { table: 'users', kind: 'trigger', name: 'update_users_updated_at' },
      /^missing: the migrations create CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON public\.users/,
    ],
    [
      'a default changed by hand',
      'alter table service_registry alter column is_active set default false',
      { table: 'service_registry', kind: 'default', name: 'is_active' },
      /^changed: the migrations make true; the database has false$/,
    ],
  ])('names %s (table, kind, name, what) and exits 1, as text and as --json', async (_label, change, place, what) => {
    const url = await migratedWith(change);
    const json = await statusJson(url);
    expect(json.code).toBe(1);
    expect(json.parsed.up_to_date).toBe(false);
    expect(json.parsed.drift).toEqual([{ ...place, difference: expect.stringMatching(what) }]);

    const text = await status(url);
    expect(text.code).toBe(1);
    expect(text.output).toContain('Not up to date: ');
    expect(text.output).toContain('but the database has drifted from them.');
    expect(text.output).toContain('Drift: the database differs from what its migrations describe in 1 place');
    expect(text.output).toMatch(new RegExp(`${place.table}\\s+${place.kind}\\s+${place.name}\\s+\\w+: `));
    expect(text.output).toContain('nothing needs resetting');
    expect(text.output).not.toMatch(/migrate reset|db reset/);
  });

  it("leaves alone a table no migration creates (another application's): listed as not compared, exit 0", async () => {
    const url = await migratedWith('create table other_app_orders (id int primary key, note text)');
    const text = await status(url);
    expect(text.code).toBe(0);
    expect(text.output).toContain('No drift');
    expect(text.output).toContain('Not compared: other_app_orders (no migration creates it');
    const json = await statusJson(url);
    expect(json.parsed).toMatchObject({ drift: [], drift_not_compared_tables: ['other_app_orders'] });
  });

  it('does not check drift while a migration is pending (drift: null in --json)', async () => {
    const url = await migratedWith('alter table users add column nickname text');
    const json = await statusJson(url, migrationsFolder({ '20270101000000_add_nickname': 'SELECT 1;' }));
    expect(json.code).toBe(1);
    expect(json.parsed.drift).toBeNull();
    expect(json.parsed.drift_compared_with).toBeNull();
  });

  it('without CREATE DATABASE rights compares with drizzle/schema.ts only, and says so', async () => {
    const url = await migratedWith('alter table users add column nickname text');
    const role = `gw_test_no_createdb_${crypto.randomUUID().slice(0, 8)}`;
    await withDatabaseHandle(url, async ({ db }) => {
      await db.execute(sql.raw(`create role ${role} login password 'drift-test' nocreatedb`));
      // The role that ran the migrations owns the tables (drizzle-kit reads constraints through
      // information_schema, which shows them to the owner only); it just may not create databases.
      await db.execute(
        sql.raw(`do $$ declare t text; begin
                   for t in select tablename from pg_tables where schemaname = 'public' loop
                     execute format('alter table %I owner to ${role}', t);
                   end loop; end $$`),
      );
    });
    try {
      const limited = new URL(url);
      limited.username = role;
      limited.password = 'drift-test';
      const json = await statusJson(limited.toString());
      expect(json.code).toBe(1);
      expect(json.parsed.drift_compared_with).toBe('drizzle_schema');
      expect(json.parsed.drift).toEqual([
        { table: 'users', kind: 'column', name: 'nickname', difference: expect.stringMatching(/^added: /) },
      ]);
      const text = await status(limited.toString());
      expect(text.output).toContain('compared with drizzle/schema.ts only, because no shadow database could be made');
      expect(text.output).toContain('permission denied to create database');
      expect(text.output).toContain('triggers and functions were not checked');
    } finally {
      await withDatabaseHandle(url, async ({ db }) => {
        await db.execute(sql.raw(`drop owned by ${role}`));
        await db.execute(sql.raw(`drop role ${role}`));
      });
    }
  });

  it('drops its shadow database afterwards', async () => {
    const url = await createDatabase({ migrated: true });
    expect((await status(url)).code).toBe(0);
    const left = await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`select datname from pg_database where datname like current_database() || '_shadow_%'`),
    );
    expect(left.rows).toEqual([]);
  });

  it("reports no drift for the old system's database adopted per docs/migrations.md (resolve --applied, then migrate)", async () => {
    const url = await oldSystemDatabase();
    for (const name of [...HISTORICAL_MIGRATIONS].sort()) {
      const resolved = await runOperatorCommand('db-migrate-resolve', ['--applied', name], {
        DATABASE_URL: url,
        MIGRATIONS_DIR: migrationsFolder(),
      });
      expect(resolved.code).toBe(0);
    }
    expect(
      (await runOperatorCommand('db-migrate', [], { DATABASE_URL: url, MIGRATIONS_DIR: migrationsFolder() })).code,
    ).toBe(0);
    const json = await statusJson(url);
    expect(json.parsed).toMatchObject({ up_to_date: true, drift: [], drift_compared_with: 'shadow_database' });
    expect(json.code).toBe(0);
  });
});

/** The old system's database at v1.2, from its own Prisma migration files and ledger (old-system-database.ts). */
async function oldSystemDatabase(): Promise<string> {
  const url = await createDatabase({ migrated: false });
  await buildOldSystemDatabase(url);
  return url;
}
