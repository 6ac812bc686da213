import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { users } from '../../../drizzle/schema.ts';
import { splitSqlStatements } from '../../../scripts/lib/migrations/sql-statements.ts';
import { schemaWithNickname } from '../../support/node/changed-schemas.ts';
import { createDatabase, migrationsFolder, withDatabaseHandle } from '../../support/node/databases.ts';
import { runMigrateDev } from '../../support/node/migrations.ts';

/** drizzle/schema.ts plus a new table with an index and a foreign key to users, and a new users column. */
const notes = pgTable(
  'user_notes',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { precision: 3, withTimezone: true }).notNull(),
  },
  (table) => [index('user_notes_user_id_idx').on(table.userId)],
);
const schemaWithNotes = { ...schemaWithNickname, userNotes: notes };

async function generate(): Promise<{ url: string; sql: string; file: string }> {
  const url = await createDatabase({ migrated: true });
  const folder = migrationsFolder();
  const { result } = await runMigrateDev(url, {
    migrationsDir: folder,
    name: 'add_notes',
    createOnly: true,
    schema: schemaWithNotes,
  });
  const file = path.join(folder, result?.created ?? '', 'migration.sql');
  return { url, sql: readFileSync(file, 'utf8'), file };
}

describe('a generated migration', () => {
  it('says IF NOT EXISTS on CREATE TABLE, CREATE INDEX and ADD COLUMN, and its header names ADD CONSTRAINT and why', async () => {
    const { sql: text } = await generate();
    expect(text).toContain('CREATE TABLE IF NOT EXISTS "user_notes"');
    expect(text).toMatch(/CREATE INDEX IF NOT EXISTS "user_notes_user_id_idx"/);
    expect(text).toContain('ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "nickname" text;');
    expect(text).toMatch(/ADD CONSTRAINT "user_notes_user_id_users_id_fk" FOREIGN KEY/);
    const header = text.split('\n\n')[0] ?? '';
    expect(header).toContain(
      '-- Postgres has no IF NOT EXISTS for ADD CONSTRAINT, so these statements are not guarded:',
    );
    expect(header).toMatch(/^-- {3}ALTER TABLE "user_notes" ADD CONSTRAINT "user_notes_user_id_users_id_fk"/m);
    const statements = splitSqlStatements(text).map((statement) => statement.text);
    const robust = /^(CREATE TABLE|CREATE (UNIQUE )?INDEX|ALTER TABLE "[^"]+" ADD COLUMN)/;
    for (const statement of statements.filter((candidate) => robust.test(candidate)))
      expect(statement).toMatch(/IF NOT EXISTS/);
  });

  it('its IF NOT EXISTS statements run a second time on a database that already has those objects', async () => {
    const { url, sql: text } = await generate();
    const statements = splitSqlStatements(text).map((statement) => statement.text);
    await withDatabaseHandle(url, async ({ db }) => {
      for (const statement of statements) await db.execute(sql.raw(statement));
      const guarded = statements.filter((candidate) => candidate.includes('IF NOT EXISTS'));
      expect(guarded).toHaveLength(3);
      for (const statement of guarded) await db.execute(sql.raw(statement));
      const columns = await db.execute(
        sql`select count(*)::int as n from information_schema.columns where table_name = 'users' and column_name = 'nickname'`,
      );
      expect(columns.rows[0]).toEqual({ n: 1 });
    });
  });

  it('passes squawk', async () => {
    const { file } = await generate();
    const result = spawnSync(
      path.resolve('node_modules/.bin/squawk'),
      ['--reporter', 'gcc', '--config', '.squawk.toml', file],
      { encoding: 'utf8' },
    );
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
