import { writeMigration } from './create.ts';
import { migrate } from './engine.ts';
import { diffSchemaAgainstDatabase } from './schema-diff.ts';
import type { MigrationConnection } from './session.ts';

export interface MigrateDevOptions {
  connection: MigrationConnection;
  migrationsDir: string;
  name: string;
  createOnly: boolean;
  log: (line: string) => void;
  /** The schema to compare with; the project's drizzle/schema.ts unless a test passes another. */
  schema?: Record<string, unknown>;
}

/**
 * `db:migrate:dev`: apply what is pending, then write the difference between drizzle/schema.ts
 * and the database as a new migration, and apply that too unless --create-only.
 */
export async function migrateDev(options: MigrateDevOptions): Promise<{ created: string | null; applied: string[] }> {
  const engine = { session: options.connection.session, migrationsDir: options.migrationsDir, log: options.log };
  const before = await migrate(engine);
  const diff = await diffSchemaAgainstDatabase(options.connection.database.db, options.schema);
  if (diff.statements.length === 0) {
    options.log('The database matches drizzle/schema.ts: no migration written.');
    return { created: null, applied: before.applied };
  }
  const created = writeMigration(options.migrationsDir, options.name, diff);
  options.log(`Wrote migrations/${created}/migration.sql (${diff.statements.length} statement(s)).`);
  if (options.createOnly) {
    options.log('Not applied (--create-only). Review it, then run `npm run db:migrate:dev` to apply.');
    return { created, applied: before.applied };
  }
  const after = await migrate(engine);
  return { created, applied: [...before.applied, ...after.applied] };
}
