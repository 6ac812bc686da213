/**
 * The migration ledger, in exactly the table Prisma keeps, so a database Prisma migrated is
 * recognised by migration name and this engine's records read the same to Prisma's tools.
 */
export interface LedgerRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** The one connection a migration run holds from start to end (it also holds the advisory lock). */
export interface Session {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
}

export const LEDGER_TABLE = '_prisma_migrations';

const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export async function ensureLedger(session: Session): Promise<void> {
  await session.query(CREATE_LEDGER);
}

export async function readLedger(session: Session): Promise<LedgerRow[]> {
  const exists = await session.query<{ found: string | null }>(
    `select to_regclass('public."_prisma_migrations"') as found`,
  );
  if (!exists.rows[0]?.found) return [];
  const result = await session.query<LedgerRow>(
    'select * from "_prisma_migrations" order by started_at, migration_name',
  );
  return result.rows;
}

export async function recordApplied(
  session: Session,
  entry: { name: string; checksum: string; startedAt: Date; steps: number; logs?: string | null },
): Promise<void> {
  await session.query(
    `insert into "_prisma_migrations"
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     values ($1, $2, clock_timestamp(), $3, $4, null, $5, $6)`,
    [crypto.randomUUID(), entry.checksum, entry.name, entry.logs ?? null, entry.startedAt, entry.steps],
  );
}

/** A row with no finished_at: the migration started and did not finish (Prisma's "failed"). */
export async function recordStarted(
  session: Session,
  entry: { name: string; checksum: string; startedAt: Date; logs?: string | null },
): Promise<string> {
  const id = crypto.randomUUID();
  await session.query(
    `insert into "_prisma_migrations"
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     values ($1, $2, null, $3, $4, null, $5, 0)`,
    [id, entry.checksum, entry.name, entry.logs ?? null, entry.startedAt],
  );
  return id;
}

export async function recordProgress(
  session: Session,
  id: string,
  progress: { steps: number; finished: boolean; logs?: string | null },
): Promise<void> {
  await session.query(
    `update "_prisma_migrations"
        set applied_steps_count = $2,
            finished_at = case when $3 then clock_timestamp() else null end,
            logs = coalesce($4, logs)
      where id = $1`,
    [id, progress.steps, progress.finished, progress.logs ?? null],
  );
}

export async function markRolledBack(session: Session, name: string): Promise<number> {
  const result = await session.query(
    `update "_prisma_migrations" set rolled_back_at = clock_timestamp()
      where migration_name = $1 and finished_at is null and rolled_back_at is null
      returning id`,
    [name],
  );
  return result.rows.length;
}

/**
 * Rewrites one finished row's checksum in place: the same id, times and step count, so the row stays
 * the one applied record Prisma Migrate reads for that migration (its `migrate deploy` goes by name and
 * unrolled-back rows, never the checksum). The note, kept in `logs`, says what the checksum was.
 */
export async function updateChecksum(session: Session, rowId: string, checksum: string, note: string): Promise<void> {
  await session.query(
    `update "_prisma_migrations"
        set checksum = $2, logs = concat_ws(E'\\n', nullif(logs, ''), $3::text)
      where id = $1`,
    [rowId, checksum, note],
  );
}
