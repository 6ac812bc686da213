import type { Database } from './client.ts';
import { isDatabaseUnavailable } from './unavailable.ts';

/**
 * Runs a read whose answer may be a little old (the verify path's lookups of keys, sessions and
 * people): on the read replica when there is one, else on the primary. `null` means "no such row".
 */
export type StaleRead = <T>(read: (db: Database) => Promise<T | null>) => Promise<T | null>;

export function primaryReads(primary: () => Database): StaleRead {
  return (read) => read(primary());
}

/** After a replica failure, this isolate reads from the primary for this long before trying it again. */
export const REPLICA_RETRY_AFTER_MS = 30_000;
/** Per replica (by its connection string, kept in memory only): when to try it again. */
const replicaDownUntil = new Map<string, number>();

export interface ReplicaReadsOptions {
  /** The replica's connection string: which replica this is, for remembering that it is down. */
  replicaUrl: string;
  replica: () => Database;
  primary: () => Database;
  /** Called when the replica could not answer and the primary was asked instead. */
  onReplicaUnavailable: (error: unknown) => void;
  now?: () => number;
}

/**
 * Replica first, the primary when the replica has no row or cannot be reached.
 * - No row: the row may be younger than the replica's lag (a session issued a moment ago, a key
 *   just rotated), so only the primary can say it does not exist. A row the replica has is used
 *   as it is: that is the staleness a deployment accepts by configuring a replica.
 * - Unreachable: the primary answers, and for REPLICA_RETRY_AFTER_MS this isolate does not wait on
 *   the replica's connect timeout again.
 */
export function replicaReads(options: ReplicaReadsOptions): StaleRead {
  const now = options.now ?? Date.now;
  return async (read) => {
    if (now() >= (replicaDownUntil.get(options.replicaUrl) ?? 0)) {
      try {
        const found = await read(options.replica());
        if (found !== null) return found;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        replicaDownUntil.set(options.replicaUrl, now() + REPLICA_RETRY_AFTER_MS);
        options.onReplicaUnavailable(error);
      }
    }
    return read(options.primary());
  };
}
