import { is } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import * as schema from '../../../drizzle/schema.ts';
import type { Database } from '../../../src/db/client.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { LEDGER_TABLE } from './ledger.ts';

export interface SchemaDiff {
  /** SQL that would make the database match drizzle/schema.ts; empty when they agree. */
  statements: string[];
  hasDataLoss: boolean;
  warnings: string[];
}

/**
 * Compares drizzle/schema.ts with the live database (drizzle-kit's push diff, never applied here).
 * The ledger is not part of the schema, so it is left out. `tables` defaults to the project's
 * schema; tests pass a changed one.
 */
export async function diffSchemaAgainstDatabase(
  db: Database,
  tables: Record<string, unknown> = schema,
): Promise<SchemaDiff> {
  const { pushSchema } = await import('drizzle-kit/api');
  const result = await quietly(() => pushSchema(tables, db as never, ['public'], [`!${LEDGER_TABLE}`])).catch(
    (error: unknown) => {
      // drizzle-kit asks on the terminal whether a column or table that appeared was renamed from
      // one that disappeared. These commands never prompt, so that question becomes this error.
      if (error instanceof Error && error.message.includes('Interactive prompts require a TTY'))
        throw new AmbiguousSchemaChangeError();
      throw error;
    },
  );
  const statements: string[] = [];
  for (const statement of result.statementsToExecute) {
    if (!(await isEquivalentDefault(db, statement)))
      statements.push(statement.trim().endsWith(';') ? statement.trim() : `${statement.trim()};`);
  }
  statements.push(...(await undeclaredDefaults(db, tables)));
  return { statements, hasDataLoss: result.hasDataLoss, warnings: result.warnings };
}

/**
 * drizzle-kit does not notice a database default that the schema does not declare (it only adds
 * or changes declared ones). Such a default would fill columns the application means to supply,
 * so it is drift: this finds them and proposes dropping them.
 */
async function undeclaredDefaults(db: Database, tables: Record<string, unknown>): Promise<string[]> {
  const statements: string[] = [];
  for (const table of Object.values(tables)) {
    if (!is(table, PgTable)) continue;
    const config = getTableConfig(table);
    const undeclared = config.columns.filter((column) => column.default === undefined).map((column) => column.name);
    if (undeclared.length === 0) continue;
    const found = await db.$client.query<{ column_name: string }>(
      `select column_name from information_schema.columns
        where table_schema = 'public' and table_name = $1 and column_default is not null
          and column_name = any($2::text[]) and is_identity = 'NO'
        order by ordinal_position`,
      [config.name, undeclared],
    );
    for (const row of found.rows) {
      statements.push(`ALTER TABLE "${config.name}" ALTER COLUMN "${row.column_name}" DROP DEFAULT;`);
    }
  }
  return statements;
}

/**
 * drizzle-kit reads some column defaults back in a different spelling than it writes them (an
 * empty array `ARRAY[]::text[]` comes back mangled), and then proposes to set the same default
 * again. Postgres itself decides: a proposed default whose value equals the current one is no change.
 */
async function isEquivalentDefault(db: Database, statement: string): Promise<boolean> {
  const match = statement.match(/^ALTER TABLE "([^"]+)" ALTER COLUMN "([^"]+)" SET DEFAULT (.+?);?$/s);
  if (!match) return false;
  const [, table, column, proposed] = match;
  const current = await db.$client.query<{ expr: string | null; type: string }>(
    `select pg_get_expr(d.adbin, d.adrelid) as expr, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = to_regclass($1) and a.attname = $2`,
    [`public."${table}"`, column],
  );
  const row = current.rows[0];
  if (!row?.expr) return false;
  try {
    const same = await db.$client.query<{ same: boolean }>(
      `select (${row.expr})::${row.type} is not distinct from (${proposed})::${row.type} as same`,
    );
    return same.rows[0]?.same === true;
  } catch {
    return false;
  }
}

export class AmbiguousSchemaChangeError extends GatewayError<'ambiguous_schema_change'> {
  constructor() {
    super(
      'ambiguous_schema_change',
      'conflict',
      [
        'drizzle/schema.ts both adds and removes a column (or a table) that could be a rename, and a',
        'generated migration cannot tell which. Nothing was written. Either make the change in two steps',
        '(add the new one and run `npx gateway db migrate-dev --name NAME`; then remove the old one and run it',
        'again with another name), or write the migration yourself: a new folder',
        'migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql with ALTER TABLE ... RENAME COLUMN ... TO ...;',
        'then `npx gateway db migrate-dev` applies it and should report that the database matches.',
      ].join('\n'),
    );
  }
}

/**
 * drizzle-kit draws a progress spinner on stdout; an operator command prints its own lines. With
 * stdout hidden, a rename question would wait for an answer to a prompt nobody can see, so
 * drizzle-kit is also told stdout is no terminal: it then refuses to ask (see above).
 */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  const isTTY = process.stdout.isTTY;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stdout.isTTY = false;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
    process.stdout.isTTY = isTTY;
  }
}
