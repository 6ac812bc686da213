/**
 * The seed's migration guideline asks for idempotent statements (`IF NOT EXISTS`). drizzle-kit
 * writes plain CREATE TABLE, CREATE INDEX and ADD COLUMN; these rewrite them so that a statement
 * meeting an object that is already there (a half-applied migration done by hand, a database
 * adopted from the old system) skips it instead of failing. Statements Postgres gives no such
 * clause are named, with the reason, in the migration's header.
 */

const REWRITES: [pattern: RegExp, replacement: string][] = [
  [/^CREATE TABLE (?!IF NOT EXISTS )/i, 'CREATE TABLE IF NOT EXISTS '],
  [/^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?!IF NOT EXISTS )/i, 'CREATE $1INDEX $2IF NOT EXISTS '],
  [/^(ALTER TABLE\s+("[^"]+"\.)?"[^"]+"\s+)ADD COLUMN (?!IF NOT EXISTS )/i, '$1ADD COLUMN IF NOT EXISTS '],
  [/^CREATE SEQUENCE (?!IF NOT EXISTS )/i, 'CREATE SEQUENCE IF NOT EXISTS '],
  [/^CREATE SCHEMA (?!IF NOT EXISTS )/i, 'CREATE SCHEMA IF NOT EXISTS '],
];

/** Statements that create something but that Postgres cannot guard with IF NOT EXISTS, and why that is safe. */
const UNGUARDED: [pattern: RegExp, what: string][] = [
  [/^ALTER TABLE\s+("[^"]+"\.)?"[^"]+"\s+ADD CONSTRAINT/i, 'ADD CONSTRAINT'],
  [/^CREATE TYPE/i, 'CREATE TYPE'],
];

export function withIfNotExists(statement: string): string {
  for (const [pattern, replacement] of REWRITES) {
    if (pattern.test(statement)) return statement.replace(pattern, replacement);
  }
  return statement;
}

/** The header lines naming each statement that cannot say IF NOT EXISTS (none when there are none). */
export function unguardedStatementNotes(statements: string[]): string[] {
  const found = statements.flatMap((statement) => {
    const match = UNGUARDED.find(([pattern]) => pattern.test(statement));
    return match ? [{ what: match[1], statement: statement.replace(/\s+/g, ' ') }] : [];
  });
  if (found.length === 0) return [];
  const kinds = [...new Set(found.map((entry) => entry.what))].join(' and ');
  return [
    '--',
    `-- Postgres has no IF NOT EXISTS for ${kinds}, so these statements are not guarded:`,
    ...found.map((entry) => `--   ${entry.statement}`),
    '-- If one of them finds its object already there, the migration fails; in a transaction (the default)',
    '-- nothing of it is applied, and the engine reports the statement. The other statements say IF NOT EXISTS.',
  ];
}
