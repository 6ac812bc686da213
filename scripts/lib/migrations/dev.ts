import { writeMigration } from './create.ts';
import { migrate } from './engine.ts';
import { MigrationError } from './errors.ts';
import { diffSchemaAgainstDatabase } from './schema-diff.ts';
import type { MigrationConnection } from './session.ts';

export interface MigrateDevOptions {
  connection: MigrationConnection;
  migrationsDir: string;
  /** The new migration's name; only needed when drizzle/schema.ts differs from the database. */
  name?: string;
  createOnly: boolean;
  log: (line: string) => void;
  /** The schema to compare with; the project's drizzle/schema.ts unless a test passes another. */
  schema?: Record<string, unknown>;
}

/**
 * `gateway db migrate-dev`: apply what is pending, then write the difference between
 * drizzle/schema.ts and the database as a new migration, and apply that too unless --create-only.
 * As with Prisma's `migrate dev`, a name is needed only when a migration is written: without one
 * it applies what is pending and, if the schema still differs, asks for --name (a usage error).
 */
export async function migrateDev(options: MigrateDevOptions): Promise<{ created: string | null; applied: string[] }> {
  const engine = { session: options.connection.session, migrationsDir: options.migrationsDir, log: options.log };
  const before = await migrate(engine);
  const diff = await diffSchemaAgainstDatabase(options.connection.database.db, options.schema);
  if (diff.statements.length === 0) {
    options.log('The database matches drizzle/schema.ts: no migration written.');
    return { created: null, applied: before.applied };
  }
  if (!options.name) {
    throw new MigrationError(
      'usage',
      `drizzle/schema.ts differs from the database (${diff.statements.length} statement(s) to write). ` +
        'Name the new migration (it never prompts): `npx gateway db migrate-dev --name NAME`, NAME in snake_case ' +
        '(what it does, e.g. add_nickname).',
    );
  }
  const created = writeMigration(options.migrationsDir, options.name, diff);
  options.log(`Wrote migrations/${created}/migration.sql (${diff.statements.length} statement(s)).`);
  if (options.createOnly) {
    options.log('Not applied (--create-only). Review it, then run `npx gateway db migrate-dev` to apply.');
    return { created, applied: before.applied };
  }
  const after = await migrate(engine);
  return { created, applied: [...before.applied, ...after.applied] };
}
