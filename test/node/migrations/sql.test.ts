import { describe, expect, it } from 'vitest';
import { findDataLoss } from '../../../scripts/lib/migrations/data-loss.ts';
import { newMigrationName } from '../../../scripts/lib/migrations/files.ts';
import { splitSqlStatements } from '../../../scripts/lib/migrations/sql-statements.ts';

describe('splitting a migration into statements', () => {
  it('splits on semicolons and keeps the line each statement starts on', () => {
    const statements = splitSqlStatements('-- header\nCREATE TABLE a (x int);\n\nDROP INDEX b;\n-- trailing comment\n');
    expect(statements).toEqual([
      { text: 'CREATE TABLE a (x int)', line: 2 },
      { text: 'DROP INDEX b', line: 4 },
    ]);
  });

  it('does not split inside strings, identifiers, dollar quotes or comments', () => {
    const source = [
      "COMMENT ON TABLE t IS 'a; b'';c';",
      'CREATE TABLE "odd;name" (x int);',
      "SELECT E'it\\'s; fine';",
      'CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.x = 1; RETURN NEW; END; $$ LANGUAGE plpgsql;',
      'CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      '/* block; /* nested; */ still comment; */ SELECT 2;',
    ].join('\n');
    const texts = splitSqlStatements(source).map((statement) => statement.text);
    expect(texts).toHaveLength(6);
    expect(texts[0]).toBe("COMMENT ON TABLE t IS 'a; b'';c'");
    expect(texts[3]).toContain('RETURN NEW; END; $$ LANGUAGE plpgsql');
    expect(texts[5]).toMatch(/SELECT 2$/);
  });
});

describe('finding statements that lose data', () => {
  const reasons = (sql: string) => findDataLoss(splitSqlStatements(sql)).map((finding) => finding.reason);

  it.each([
    ['DROP TABLE users;', 'drops a table and its data'],
    ['DROP TABLE IF EXISTS "users" CASCADE;', 'drops a table and its data'],
    ['drop schema legacy cascade;', 'drops a schema and its data'],
    ['TRUNCATE service_audit_logs;', 'truncates a table'],
    ['DELETE FROM users WHERE is_whitelisted = false;', 'deletes rows'],
    ['ALTER TABLE users DROP COLUMN legacy;', 'drops column legacy and its data'],
    ['ALTER TABLE "users" DROP "legacy";', 'drops column "legacy" and its data'],
    ['ALTER TABLE users ALTER COLUMN github_user_id TYPE bigint USING github_user_id::bigint;', 'changes the type'],
    ['ALTER TABLE users ALTER github_user_id SET DATA TYPE varchar(10);', 'changes the type'],
  ])('%s', (sql, expected) => {
    expect(reasons(sql).join(' | ')).toContain(expected);
  });

  it.each([
    'DROP INDEX IF EXISTS "users_created_at_idx";',
    'ALTER TABLE "users" ALTER COLUMN "id" DROP DEFAULT, ALTER COLUMN "created_at" DROP DEFAULT;',
    'ALTER TABLE users DROP CONSTRAINT users_pkey;',
    'ALTER TABLE users ALTER COLUMN expires_at DROP NOT NULL;',
    'ALTER TABLE users ADD COLUMN github_login text;',
    "COMMENT ON COLUMN users.access_token IS 'DROP TABLE users; TRUNCATE x';",
    '-- DROP TABLE users;\nSELECT 1;',
    'UPDATE users SET github_login = NULL WHERE false;',
  ])('passes %s', (sql) => {
    expect(reasons(sql)).toEqual([]);
  });

  it('finds a drop among several actions of one ALTER TABLE', () => {
    expect(reasons('ALTER TABLE users ADD COLUMN a int, DROP COLUMN b, ALTER COLUMN c SET DEFAULT (1, 2);')).toEqual([
      'drops column b and its data',
    ]);
  });
});

describe('naming a new migration', () => {
  it('stamps it with the UTC time and a slug of the label', () => {
    expect(newMigrationName('Add GitHub login!', [], new Date('2026-01-02T03:04:05Z'))).toBe(
      '20260102030405_add_github_login',
    );
  });

  it('always sorts after the existing migrations, even when the clock is behind', () => {
    expect(newMigrationName('x', ['20300101000000_future'], new Date('2026-01-01T00:00:00Z'))).toBe('20300101000001_x');
  });
});
