import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { schemaWithRenamedExpiry } from '../../support/node/changed-schemas.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import { createDatabase, migrationsFolder, withDatabaseHandle } from '../../support/node/databases.ts';
import { runMigrateDev } from '../../support/node/migrations.ts';

// Every command a migration message tells the operator to run is a `npx gateway db ...` form that
// the gateway accepts: run as printed (placeholders such as NAME left in), it never exits 2.

/** The `npx gateway ...` commands a message names, as argument lists. */
function hintedCommands(message: string): string[][] {
  const found = [...message.matchAll(/npx gateway ([a-z][^`\n]*?)(?=`|\s{2,}|\n|$)/g)];
  return found.map((match) => (match[1] ?? '').trim().split(/\s+/));
}

/** A migrated database that lacks users.refresh_token, so drizzle/schema.ts differs from it. */
async function databaseBehindSchema(): Promise<string> {
  const url = await createDatabase({ migrated: true });
  await withDatabaseHandle(url, ({ db }) => db.execute(sql`ALTER TABLE "users" DROP COLUMN "refresh_token"`));
  return url;
}

async function expectEachAccepted(message: string, env: Record<string, string>): Promise<void> {
  expect(message).not.toContain('npm run db');
  const commands = hintedCommands(message);
  expect(commands.length).toBeGreaterThan(0);
  for (const args of commands) {
    const result = await runOperatorCommand('gateway', args, env);
    expect([args.join(' '), result.code, result.output]).not.toEqual([args.join(' '), 2, expect.anything()]);
  }
}

describe('migration hints name commands that work', () => {
  it('after migrate-dev --create-only, the hinted `npx gateway db migrate-dev` (no --name) applies the new migration', async () => {
    const url = await databaseBehindSchema();
    const env = { DATABASE_URL: url, MIGRATIONS_DIR: migrationsFolder() };
    const created = await runOperatorCommand('gateway', ['db', 'migrate-dev', '--name', 'readd', '--create-only'], env);
    expect(created.code).toBe(0);
    expect(created.output).toContain('run `npx gateway db migrate-dev` to apply');
    expect(hintedCommands(created.output)).toEqual([['db', 'migrate-dev']]);
    const applied = await runOperatorCommand('gateway', ['db', 'migrate-dev'], env);
    expect(applied.code).toBe(0);
    expect(applied.output).toMatch(/Applied \d{14}_readd/);
    expect(applied.output).toContain('The database matches drizzle/schema.ts: no migration written.');
  });

  it('migrate-dev without --name applies what is pending and asks for --name (exit 2) only when the schema differs', async () => {
    const url = await databaseBehindSchema();
    const folder = migrationsFolder({ '20270101000000_pending': 'SELECT 1;' });
    const result = await runOperatorCommand('gateway', ['db', 'migrate-dev'], {
      DATABASE_URL: url,
      MIGRATIONS_DIR: folder,
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('Applied 20270101000000_pending');
    expect(result.output).toContain('drizzle/schema.ts differs from the database');
    expect(result.output).toContain('`npx gateway db migrate-dev --name NAME`');
  });

  it('the rename refusal names commands that work', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const { error } = await runMigrateDev(url, {
      migrationsDir: folder,
      createOnly: true,
      schema: schemaWithRenamedExpiry,
    });
    await expectEachAccepted(error?.message ?? '', { DATABASE_URL: url, MIGRATIONS_DIR: folder });
  });

  it('a failed migration, its status, and the resolve answers name commands that work', async () => {
    const url = await createDatabase({ migrated: true });
    const broken = '20270101000000_broken';
    const folder = migrationsFolder({ [broken]: 'SELECT no_such_function();' });
    const env = { DATABASE_URL: url, MIGRATIONS_DIR: folder };
    const failed = await runOperatorCommand('gateway', ['db', 'migrate'], env);
    expect(failed.code).toBe(1);
    const refused = await runOperatorCommand('gateway', ['db', 'migrate'], env);
    expect(refused.code).toBe(1);
    const status = await runOperatorCommand('gateway', ['db', 'status'], env);
    const unknown = await runOperatorCommand('gateway', ['db', 'resolve', '--applied', 'brokn'], env);
    for (const output of [failed.output, refused.output, status.output, unknown.output]) {
      await expectEachAccepted(output, env);
    }
    // Running those hints changed the ledger: the rolled-back answer is checked on a fresh copy.
    const again = { DATABASE_URL: await createDatabase({ migrated: true }), MIGRATIONS_DIR: folder };
    expect((await runOperatorCommand('gateway', ['db', 'migrate'], again)).code).toBe(1);
    const rolledBack = await runOperatorCommand('gateway', ['db', 'resolve', '--rolled-back', broken], again);
    expect(rolledBack.code).toBe(0);
    await expectEachAccepted(rolledBack.output, again);
  });

  it('a pending migration in status and an unmigrated database name `npx gateway db migrate`', async () => {
    const url = await createDatabase({ migrated: false });
    const env = { DATABASE_URL: url, MIGRATIONS_DIR: migrationsFolder() };
    const unmigrated = await runOperatorCommand('gateway', ['services', 'list'], env);
    expect(unmigrated.output).toContain('run `npx gateway db migrate`');
    await expectEachAccepted(unmigrated.output, env);
    const empty = await createDatabase({ migrated: false });
    const status = await runOperatorCommand('gateway', ['db', 'status'], { ...env, DATABASE_URL: empty });
    expect(status.output).toContain('run `npx gateway db migrate`');
    await expectEachAccepted(status.output, { ...env, DATABASE_URL: empty });
  });
});
