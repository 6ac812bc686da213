import type { Database } from '../../../src/db/client.ts';
import type { DriftDifference } from './drift-compare.ts';
import { diffSchemaAgainstDatabase } from './schema-diff.ts';

/**
 * Drift against drizzle/schema.ts alone (when no shadow database can be made): the schema test's
 * diff (schema-diff.ts), each statement it would run read back as the difference it repairs.
 * drizzle/schema.ts declares no triggers or functions, so those are not checked this way. A table
 * the schema does not declare is another application's (the diff would drop it): listed, not drift.
 */
export async function driftAgainstSchema(
  db: Database,
): Promise<{ differences: DriftDifference[]; foreignTables: string[] }> {
  const diff = await diffSchemaAgainstDatabase(db);
  const differences: DriftDifference[] = [];
  const foreignTables: string[] = [];
  for (const statement of diff.statements) {
    const dropTable = statement.match(/^DROP TABLE "([^"]+)"/);
    if (dropTable?.[1]) foreignTables.push(dropTable[1]);
    else differences.push(readStatement(statement));
  }
  return { differences, foreignTables: foreignTables.sort() };
}

const READINGS: [RegExp, (m: RegExpMatchArray) => Omit<DriftDifference, 'difference'>, string][] = [
  [
    /^CREATE TABLE (?:IF NOT EXISTS )?"([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'table', name: m[1] ?? '' }),
    'missing: drizzle/schema.ts declares this table',
  ],
  [
    /^ALTER TABLE "([^"]+)" ADD COLUMN (?:IF NOT EXISTS )?"([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'column', name: m[2] ?? '' }),
    'missing: drizzle/schema.ts declares this column',
  ],
  [
    /^ALTER TABLE "([^"]+)" DROP COLUMN (?:IF EXISTS )?"([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'column', name: m[2] ?? '' }),
    'added: the database has this column; drizzle/schema.ts does not declare it',
  ],
  [
    /^ALTER TABLE "([^"]+)" ALTER COLUMN "([^"]+)" (?:SET|DROP) DEFAULT/,
    (m) => ({ table: m[1] ?? null, kind: 'default', name: m[2] ?? '' }),
    'changed: the default differs from drizzle/schema.ts',
  ],
  [
    /^ALTER TABLE "([^"]+)" ALTER COLUMN "([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'column', name: m[2] ?? '' }),
    'changed: type or nullability differs from drizzle/schema.ts',
  ],
  [
    /^ALTER TABLE "([^"]+)" ADD CONSTRAINT "([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'constraint', name: m[2] ?? '' }),
    'missing: drizzle/schema.ts declares this constraint',
  ],
  [
    /^ALTER TABLE "([^"]+)" ADD PRIMARY KEY/,
    (m) => ({ table: m[1] ?? null, kind: 'constraint', name: 'PRIMARY KEY' }),
    'missing: drizzle/schema.ts declares this primary key',
  ],
  [
    /^ALTER TABLE "([^"]+)" DROP CONSTRAINT (?:IF EXISTS )?"([^"]+)"/,
    (m) => ({ table: m[1] ?? null, kind: 'constraint', name: m[2] ?? '' }),
    'added: the database has this constraint; drizzle/schema.ts does not declare it',
  ],
  [
    /^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?"([^"]+)" ON "([^"]+)"/,
    (m) => ({ table: m[2] ?? null, kind: 'index', name: m[1] ?? '' }),
    'missing: drizzle/schema.ts declares this index',
  ],
  [
    /^DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?"([^"]+)"/,
    (m) => ({ table: null, kind: 'index', name: m[1] ?? '' }),
    'added: the database has this index; drizzle/schema.ts does not declare it',
  ],
];

function readStatement(statement: string): DriftDifference {
  for (const [pattern, place, difference] of READINGS) {
    const match = statement.match(pattern);
    if (match) return { ...place(match), difference: `${difference} (drizzle-kit would run: ${statement})` };
  }
  return { table: null, kind: 'table', name: '', difference: `drizzle-kit would run: ${statement}` };
}
