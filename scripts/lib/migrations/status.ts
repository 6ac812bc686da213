import { checksumMatches, type MigrationFile } from './files.ts';
import type { LedgerRow } from './ledger.ts';

export type MigrationState = 'applied' | 'pending' | 'failed' | 'modified' | 'unknown';

export interface MigrationStatus {
  name: string;
  state: MigrationState;
  /** The file in this checkout (absent for `unknown`). */
  file?: MigrationFile;
  /** The ledger row that decides the state (absent for `pending`). */
  row?: LedgerRow;
}

/**
 * The state of every migration, in file order, then those the database knows and the checkout
 * does not. Rows marked rolled back are ignored, as Prisma ignores them: the migration is
 * pending again. Of the rest, the latest row decides.
 */
export function computeStatus(files: MigrationFile[], rows: LedgerRow[]): MigrationStatus[] {
  const latest = new Map<string, LedgerRow>();
  for (const row of rows) {
    if (row.rolled_back_at !== null) continue;
    const seen = latest.get(row.migration_name);
    if (!seen || row.started_at.getTime() >= seen.started_at.getTime()) latest.set(row.migration_name, row);
  }
  const statuses: MigrationStatus[] = files.map((file) => {
    const row = latest.get(file.name);
    if (!row) return { name: file.name, state: 'pending', file };
    if (row.finished_at === null) return { name: file.name, state: 'failed', file, row };
    return { name: file.name, state: checksumMatches(file, row.checksum) ? 'applied' : 'modified', file, row };
  });
  const known = new Set(files.map((file) => file.name));
  for (const [name, row] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
    if (!known.has(name)) statuses.push({ name, state: 'unknown', row });
  }
  return statuses;
}

export function isUpToDate(statuses: MigrationStatus[]): boolean {
  return statuses.every((status) => status.state === 'applied');
}
