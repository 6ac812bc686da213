import { MigrationError } from './errors.ts';
import type { Session } from './ledger.ts';

/**
 * The two session-level advisory locks a run holds. `gateway`: every runner of this project's
 * migrations, on any machine. `prisma`: the key Prisma Migrate takes (`SELECT pg_advisory_lock(72707369)`
 * in prisma-engines' Postgres connector, `acquire_lock`), so that the old system's `prisma migrate deploy`
 * and this engine never write the shared `_prisma_migrations` ledger at the same time during a cutover.
 */
export const MIGRATION_LOCKS = {
  gateway: { key: '7262114505133117', name: 'the migration lock' },
  prisma: { key: '72707369', name: "Prisma Migrate's lock (pg_advisory_lock(72707369))" },
} as const;

export type MigrationLockName = keyof typeof MIGRATION_LOCKS;

const POLL_MS = 200;

/**
 * Takes the project's lock, then Prisma's, waiting up to `waitMs` in all for whoever holds them.
 * Every gateway runner takes them in this one order, and Prisma Migrate takes only its own, so no two
 * runners can each hold one and wait for the other (no deadlock). The project's lock comes first so that
 * gateway runners queue among themselves without holding Prisma's: Prisma's lock is held only by the one
 * runner actually migrating, and an old-system deploy (which gives up after 10 s) is blocked no longer.
 * Session-level locks need a direct connection: a transaction-mode pooler (Neon's -pooler host)
 * would hand the lock to whichever connection happens to serve the call (docs/migrations.md).
 */
export async function acquireMigrationLock(
  session: Session,
  waitMs: number,
  onWaiting: (holderPid: number | null, lock: MigrationLockName) => void,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  await waitForLock(session, 'gateway', deadline, waitMs, onWaiting);
  try {
    await waitForLock(session, 'prisma', deadline, waitMs, onWaiting);
  } catch (error) {
    await unlock(session, 'gateway');
    throw error;
  }
  return async () => {
    try {
      await unlock(session, 'prisma');
    } finally {
      await unlock(session, 'gateway');
    }
  };
}

async function waitForLock(
  session: Session,
  lock: MigrationLockName,
  deadline: number,
  waitMs: number,
  onWaiting: (holderPid: number | null, lock: MigrationLockName) => void,
): Promise<void> {
  const { key } = MIGRATION_LOCKS[lock];
  let announced = false;
  while (true) {
    const attempt = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [
      key,
    ]);
    if (attempt.rows[0]?.locked) return;
    const holder = await lockHolder(session, key);
    if (!announced) {
      onWaiting(holder, lock);
      announced = true;
    }
    if (Date.now() >= deadline) throw lockTimeout(lock, holder, waitMs);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function unlock(session: Session, lock: MigrationLockName): Promise<void> {
  await session.query('select pg_advisory_unlock($1::bigint)', [MIGRATION_LOCKS[lock].key]);
}

function lockTimeout(lock: MigrationLockName, holder: number | null, waitMs: number): MigrationError {
  const waited = waitMs < 1000 ? `${waitMs} ms` : `${Math.round(waitMs / 1000)} s`;
  const terminate = `\`select pg_terminate_backend(${holder ?? 'PID'})\``;
  if (lock === 'prisma') {
    return new MigrationError(
      'lock_timeout',
      `${MIGRATION_LOCKS.prisma.name} was held${holder ? ` by database backend pid ${holder}` : ''} for more than ${waited}: ` +
        "the old system's `prisma migrate deploy` (or another Prisma Migrate command) is using this database. Nothing was " +
        'applied. Let it finish and run again (MIGRATION_LOCK_TIMEOUT_MS sets the wait, in ms); if nothing of the old ' +
        `system is running, that session is stuck: end it with ${terminate} and run again.`,
    );
  }
  return new MigrationError(
    'lock_timeout',
    `Another migration runner${holder ? ` (database backend pid ${holder})` : ''} held the migration lock for more than ` +
      `${waited}. Wait for it to finish and run again (MIGRATION_LOCK_TIMEOUT_MS sets the wait, in ms). If no runner is ` +
      `active, that session is stuck: end it with ${terminate} and run again.`,
  );
}

async function lockHolder(session: Session, lockKey: string): Promise<number | null> {
  // pg_locks shows a bigint advisory key as its high and low 32 bits, with objsubid 1.
  const key = BigInt(lockKey);
  const result = await session.query<{ pid: number }>(
    `select pid from pg_locks
      where locktype = 'advisory' and granted and classid = $1::oid and objid = $2::oid and objsubid = 1
      limit 1`,
    [String(key >> 32n), String(key & 0xffffffffn)],
  );
  return result.rows[0]?.pid ?? null;
}
