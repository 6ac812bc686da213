import { randomBytes } from 'node:crypto';
import { readCatalogue } from './drift-catalogue.ts';
import { compareCatalogues, type DriftDifference } from './drift-compare.ts';
import { driftAgainstSchema } from './drift-schema.ts';
import { migrate } from './engine.ts';
import { type MigrationConnection, withMigrationSession } from './session.ts';

export type { DriftDifference } from './drift-compare.ts';

/** What `gateway db status` found when it compared the live database with what describes it. */
export interface DriftReport {
  /**
   * `shadow_database`: a database migrated from empty by this checkout's migrations, as Prisma's
   * `migrate dev` does; `drizzle_schema`: drizzle/schema.ts only (no triggers or functions), when no
   * shadow database could be made (`reason` says why).
   */
  comparedWith: 'shadow_database' | 'drizzle_schema';
  reason?: string;
  differences: DriftDifference[];
  /** Tables no migration creates (another application's?): listed, never drift. */
  foreignTables: string[];
}

/**
 * Drift: the live database against the catalogue of a shadow database that this checkout's
 * migrations build from empty (they are all applied, or status would not ask). The shadow is named
 * after the live database (`<name>_shadow_<random>`), made from template0 and always dropped. A role
 * that may not CREATE DATABASE (or a shadow the migrations cannot build) falls back to comparing with
 * drizzle/schema.ts only. Read-only on the live database.
 */
export async function detectDrift(options: {
  url: string;
  connection: MigrationConnection;
  migrationsDir: string;
}): Promise<DriftReport> {
  const { session } = options.connection;
  const current = await session.query<{ name: string }>('select current_database() as name');
  const liveName = current.rows[0]?.name ?? 'gateway';
  const shadowName = `${liveName.slice(0, 63 - 16)}_shadow_${randomBytes(4).toString('hex')}`;
  try {
    await session.query(`CREATE DATABASE ${quoteIdentifier(shadowName)} TEMPLATE template0`);
  } catch (error) {
    return fallback(options.connection, `no shadow database could be made (${postgresMessage(error)})`);
  }
  try {
    const shadowUrl = new URL(options.url);
    shadowUrl.pathname = `/${encodeURIComponent(shadowName)}`;
    const expected = await withMigrationSession(shadowUrl.toString(), async (shadow) => {
      await migrate({ session: shadow.session, migrationsDir: options.migrationsDir, log: () => {} });
      return readCatalogue(shadow.session);
    }).catch((error: unknown) => ({ error }));
    if ('error' in expected) {
      return fallback(
        options.connection,
        `the migrations did not build a shadow database from empty (${postgresMessage(expected.error)})`,
      );
    }
    const actual = await readCatalogue(session);
    return { comparedWith: 'shadow_database', ...compareCatalogues(expected, actual) };
  } finally {
    await session.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(shadowName)} WITH (FORCE)`).catch(() => {});
  }
}

async function fallback(connection: MigrationConnection, reason: string): Promise<DriftReport> {
  return { comparedWith: 'drizzle_schema', reason, ...(await driftAgainstSchema(connection.database.db)) };
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function postgresMessage(error: unknown): string {
  const first = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 197)}...` : first;
}
