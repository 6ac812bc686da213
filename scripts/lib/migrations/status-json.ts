import type { DriftDifference, DriftReport } from './drift.ts';
import { isUpToDate, type MigrationStatus } from './status.ts';

/** One migration's status for `gateway db status --json`, in snake_case like the admin API. */
export interface MigrationStatusJson {
  name: string;
  state: MigrationStatus['state'];
  /** When it finished applying; null while pending or failed. */
  applied_at: string | null;
  /** When its latest (not rolled back) attempt started; null while pending. */
  started_at: string | null;
  applied_steps: number | null;
  /** The checksum the database recorded, and the file's in this checkout (they differ when modified). */
  recorded_checksum: string | null;
  file_checksum: string | null;
  /** What the ledger recorded about the attempt (why it failed, how it was resolved). */
  logs: string | null;
}

/**
 * `drift` is null when it was not checked (some migration is not applied: drift against a pending
 * migration would be noise), else every difference; `drift_compared_with` says against what.
 */
export function migrationStatusJson(
  statuses: MigrationStatus[],
  drift?: DriftReport,
): {
  up_to_date: boolean;
  migrations: MigrationStatusJson[];
  drift: DriftDifference[] | null;
  drift_compared_with: DriftReport['comparedWith'] | null;
  drift_not_compared_tables: string[];
} {
  return {
    up_to_date: isUpToDate(statuses) && (drift?.differences.length ?? 0) === 0,
    drift: drift?.differences ?? null,
    drift_compared_with: drift?.comparedWith ?? null,
    drift_not_compared_tables: drift?.foreignTables ?? [],
    migrations: statuses.map((status) => ({
      name: status.name,
      state: status.state,
      applied_at: status.row?.finished_at?.toISOString() ?? null,
      started_at: status.row?.started_at.toISOString() ?? null,
      applied_steps: status.row?.applied_steps_count ?? null,
      recorded_checksum: status.row?.checksum ?? null,
      file_checksum: status.file?.checksum ?? null,
      logs: status.row?.logs ?? null,
    })),
  };
}
