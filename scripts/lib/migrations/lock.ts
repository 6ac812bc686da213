import { MigrationError } from './errors.ts';
import type { Session } from './ledger.ts';

/** One advisory lock key for every runner of this project's migrations, on any machine. */
const LOCK_KEY = '7262114505133117';
const POLL_MS = 200;

/**
 * Takes the session-level advisory lock, waiting up to `waitMs` for another runner to finish.
 * Session-level locks need a direct connection: a transaction-mode pooler (Neon's -pooler host)
 * would hand the lock to whichever connection happens to serve the call (docs/migrations.md).
 */
export async function acquireMigrationLock(
  session: Session,
  waitMs: number,
  onWaiting: (holderPid: number | null) => void,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  let announced = false;
  while (true) {
    const attempt = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
      LOCK_KEY,
    ]);
    if (attempt.rows[0]?.locked) {
      return async () => {
        await session.query('select pg_advisory_unlock($1::bigint)', [LOCK_KEY]);
      };
    }
    const holder = await lockHolder(session);
    if (!announced) {
      onWaiting(holder);
      announced = true;
    }
    if (Date.now() >= deadline) {
      throw new MigrationError(
        'lock_timeout',
        `Another migration runner${holder ? ` (database backend pid ${holder})` : ''} held the migration lock for more than ` +
          `${Math.round(waitMs / 1000)} s. Wait for it to finish and run again. If no runner is active, that session is stuck: ` +
          `end it with \`select pg_terminate_backend(${holder ?? 'PID'})\` and run again.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function lockHolder(session: Session): Promise<number | null> {
  // pg_locks shows a bigint advisory key as its high and low 32 bits.
  const key = BigInt(LOCK_KEY);
  const result = await session.query<{ pid: number }>(
    `select pid from pg_locks
      where locktype = 'advisory' and granted and classid = $1::oid and objid = $2::oid and objsubid = 1
      limit 1`,
    [String(key >> 32n), String(key & 0xffffffffn)],
  );
  return result.rows[0]?.pid ?? null;
}
