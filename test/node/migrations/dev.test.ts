import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationStatus } from '../../../scripts/lib/migrations/engine.ts';
import { diffSchemaAgainstDatabase } from '../../../scripts/lib/migrations/schema-diff.ts';
import { withMigrationSession } from '../../../scripts/lib/migrations/session.ts';
import {
  schemaWithNickname,
  schemaWithoutExpiresAt,
  schemaWithRenamedExpiry,
} from '../../support/node/changed-schemas.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';
import { runMigrateDev } from '../../support/node/migrations.ts';

describe('db:migrate:dev', () => {
  it('with --create-only writes a migration whose SQL makes the database match the changed schema', async () => {
    const url = await createDatabase({ migrated: false });
    const folder = migrationsFolder();

    const { result } = await runMigrateDev(url, {
      migrationsDir: folder,
      name: 'Add nickname',
      createOnly: true,
      schema: schemaWithNickname,
    });
    if (!result) throw new Error('migrate-dev refused');
    expect(result.applied).toEqual(repositoryMigrations());
    expect(result.created).toMatch(/^\d{14}_add_nickname$/);
    const written = readFileSync(path.join(folder, result.created ?? '', 'migration.sql'), 'utf8');
    expect(written).toContain('ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "nickname" text;');
    expect(written).toContain('Made by `npx gateway db migrate-dev`');

    const statuses = await withMigrationSession(url, ({ session }) =>
      migrationStatus({ session, migrationsDir: folder }),
    );
    expect(statuses.at(-1)).toMatchObject({ name: result.created, state: 'pending' });

    // The written file, applied by the production command, makes the database match the schema.
    const deploy = await runOperatorCommand('db-migrate', [], { DATABASE_URL: url, MIGRATIONS_DIR: folder });
    expect(deploy.code).toBe(0);
    const remaining = await withDatabaseHandle(url, ({ db }) => diffSchemaAgainstDatabase(db, schemaWithNickname));
    expect(remaining.statements).toEqual([]);
  });

  it('without --create-only applies the new migration, and writes nothing when nothing changed', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const run = async (name: string) =>
      (await runMigrateDev(url, { migrationsDir: folder, name, createOnly: false, schema: schemaWithNickname })).result;
    const first = await run('add_login');
    expect(first?.applied).toEqual([first?.created]);
    expect(await run('again')).toEqual({ created: null, applied: [] });
  });

  it('writes a data-losing change but does not apply it until the file accepts the loss', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const { error } = await runMigrateDev(url, {
      migrationsDir: folder,
      name: 'drop_expiry',
      createOnly: false,
      schema: schemaWithoutExpiresAt,
    });
    expect(error?.message).toContain('would lose data');
    const statuses = await withMigrationSession(url, ({ session }) =>
      migrationStatus({ session, migrationsDir: folder }),
    );
    const created = statuses.at(-1);
    expect(created?.state).toBe('pending');
    const written = readFileSync(created?.file?.file ?? '', 'utf8');
    expect(written).toContain('DROP COLUMN "expires_at"');
    expect(written).toContain('-- migrate:accept-data-loss <reason>');
  });

  it('never prompts: a change that could be a rename is refused with what to do, and nothing is written', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const { error } = await runMigrateDev(url, {
      migrationsDir: folder,
      name: 'rename_expiry',
      createOnly: true,
      schema: schemaWithRenamedExpiry,
    });
    expect(error?.code).toBe('ambiguous_schema_change');
    expect(error?.message).toContain('RENAME COLUMN');
    const statuses = await withMigrationSession(url, ({ session }) =>
      migrationStatus({ session, migrationsDir: folder }),
    );
    expect(statuses.map((status) => status.name)).toEqual(repositoryMigrations());
  });
});
