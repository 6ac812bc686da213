import { sql } from 'drizzle-orm';
import type { Queryable } from './client.ts';

/**
 * The newest migration in migrations/ (a Worker has no migrations folder to read it from).
 * test/node/latest-migration.test.ts keeps it equal to that folder's last migration, so adding a
 * migration without bumping this fails the suite.
 */
export const LATEST_MIGRATION = '20261201181612_events_indexes';

export type LedgerState =
  /** The latest migration is applied and none failed. */
  | { kind: 'up_to_date' }
  /** The latest migration this Worker knows is not applied (`gateway db migrate` is due). */
  | { kind: 'behind'; latestApplied: string | null }
  /** A migration started and did not finish (`gateway db status` tells which, `db resolve` clears it). */
  | { kind: 'failed'; name: string }
  /** The database has a migration newer than this Worker's code (a deploy is due). */
  | { kind: 'ahead'; latestApplied: string };

/**
 * What the migration ledger (`_prisma_migrations`, the table `gateway db status` reads) says of
 * this Worker's schema, as that command decides it: rows marked rolled back are ignored, a row
 * without finished_at is a failed migration. The checksums are the command's business (it has
 * the files); this asks only whether the database has what the code expects.
 */
export async function readLedgerState(db: Queryable): Promise<LedgerState> {
  const result = await db.execute<{ migration_name: string; finished: boolean }>(sql`
    select migration_name, finished_at is not null as finished
      from "_prisma_migrations"
     where rolled_back_at is null`);
  const rows = result.rows;
  const failed = rows.find(
    (row) => !row.finished && !rows.some((other) => other.finished && other.migration_name === row.migration_name),
  );
  if (failed) return { kind: 'failed', name: failed.migration_name };
  const applied = rows
    .filter((row) => row.finished)
    .map((row) => row.migration_name)
    .sort();
  const latestApplied = applied.at(-1) ?? null;
  if (latestApplied !== null && latestApplied > LATEST_MIGRATION) return { kind: 'ahead', latestApplied };
  if (!applied.includes(LATEST_MIGRATION)) return { kind: 'behind', latestApplied };
  return { kind: 'up_to_date' };
}
