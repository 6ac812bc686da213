import type { Database } from './client.ts';
import { isDatabaseUnavailable } from './unavailable.ts';

/**
 * Where the verify path's lookups (service keys, sessions, people) run: on the read replica when
 * one is configured, else on the primary. A read answers `null` for "no such row".
 */
export interface LookupReads {
  /**
   * True when answers may come from a replica. In-isolate caches keep such answers apart from the
   * primary's, so a route that must see the primary never trusts what a replica said.
   */
  readonly viaReplica: boolean;
  read<T>(query: (db: Database) => Promise<T | null>, options?: { primaryOnly?: boolean }): Promise<T | null>;
}

export function primaryReads(primary: () => Database): LookupReads {
  return { viaReplica: false, read: (query) => query(primary()) };
}

/** After a replica failure, or finding it too far behind, this isolate leaves it alone this long. */
export const REPLICA_RETRY_AFTER_MS = 30_000;
/** How far behind the primary a replica may be and still be read (the staleness it adds). */
export const MAX_REPLICA_LAG_SECONDS = 5;
/** How often an isolate asks a replica how far behind it is. */
export const REPLICA_LAG_CHECK_EVERY_MS = 10_000;

interface ReplicaState {
  skipUntil: number;
  lagCheckedAt: number;
}
/** Per replica (by its connection string, kept in memory only). */
const replicaStates = new Map<string, ReplicaState>();

export interface ReplicaReadsOptions {
  /** The replica's connection string: which replica this is, for remembering its state. */
  replicaUrl: string;
  replica: () => Database;
  primary: () => Database;
  /** Told when the replica was passed over for the primary, and why (never the connection string). */
  onReplicaSkipped: (reason: 'unavailable' | 'error' | 'lagging', detail: unknown) => void;
  now?: () => number;
}

/**
 * Replica first; the primary when the replica has no row, fails, or is too far behind.
 * - No row: the row may be younger than the replica's lag (a session issued a moment ago, a key
 *   just created), so only the primary can say it does not exist. A row the replica has is used
 *   as it is: that is the staleness a deployment accepts by configuring a replica, bounded by
 *   MAX_REPLICA_LAG_SECONDS through the lag check.
 * - Fails: any error (a standby can cancel a query that conflicts with recovery, or not have a
 *   migration's column yet) is answered by the primary. A lost connection also makes this isolate
 *   leave the replica alone for REPLICA_RETRY_AFTER_MS rather than wait on its connect timeout again.
 * - Lag: every REPLICA_LAG_CHECK_EVERY_MS the isolate asks the replica how long ago it replayed the
 *   primary's last transaction; past the bound it is left alone like a failed one. An idle primary
 *   looks like lag too, which only sends reads to the primary.
 */
export function replicaReads(options: ReplicaReadsOptions): LookupReads {
  const now = options.now ?? Date.now;
  let state = replicaStates.get(options.replicaUrl);
  if (!state) {
    state = { skipUntil: 0, lagCheckedAt: 0 };
    replicaStates.set(options.replicaUrl, state);
  }
  const replicaState = state;

  const replicaUsable = async (): Promise<boolean> => {
    if (now() < replicaState.skipUntil) return false;
    if (now() - replicaState.lagCheckedAt < REPLICA_LAG_CHECK_EVERY_MS) return true;
    replicaState.lagCheckedAt = now();
    const lag = await replicaLag(options.replica());
    if (lag === null || lag <= MAX_REPLICA_LAG_SECONDS) return true;
    replicaState.skipUntil = now() + REPLICA_RETRY_AFTER_MS;
    options.onReplicaSkipped('lagging', { lagSeconds: lag });
    return false;
  };

  return {
    viaReplica: true,
    read: async (query, readOptions) => {
      if (!readOptions?.primaryOnly) {
        try {
          if (await replicaUsable()) {
            const found = await query(options.replica());
            if (found !== null) return found;
          }
        } catch (error) {
          const unavailable = isDatabaseUnavailable(error);
          if (unavailable) replicaState.skipUntil = now() + REPLICA_RETRY_AFTER_MS;
          options.onReplicaSkipped(unavailable ? 'unavailable' : 'error', error);
        }
      }
      return query(options.primary());
    },
  };
}

/**
 * Seconds since the replica replayed the primary's last transaction; null when it is not a standby
 * (nothing to lag behind). A standby that has replayed nothing yet counts as infinitely behind.
 */
async function replicaLag(db: Database): Promise<number | null> {
  const result = await db.$client.query<{ standby: boolean; lag: number | null }>(
    `select pg_is_in_recovery() as standby,
            extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as lag`,
  );
  const row = result.rows[0];
  if (!row?.standby) return null;
  return row.lag ?? Number.POSITIVE_INFINITY;
}
