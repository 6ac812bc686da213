import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { findDataLoss } from './data-loss.ts';
import { MigrationError } from './errors.ts';
import { ACCEPT_DATA_LOSS_MARKER, type MigrationFile, readMigrations } from './files.ts';
import {
  ensureLedger,
  markRolledBack,
  readLedger,
  recordApplied,
  recordProgress,
  recordStarted,
  type Session,
  updateChecksum,
} from './ledger.ts';
import { acquireMigrationLock, MIGRATION_LOCKS } from './lock.ts';
import { type SqlStatement, splitSqlStatements } from './sql-statements.ts';
import { computeStatus, type MigrationStatus } from './status.ts';

export interface EngineOptions {
  session: Session;
  migrationsDir: string;
  log: (line: string) => void;
  /** How long a second runner waits for the first before giving up. */
  lockWaitMs?: number;
  /** Bounds each statement's wait for a table lock, so a migration never queues behind traffic for long. */
  lockTimeout?: string;
  statementTimeout?: string;
}

const DEFAULTS = { lockWaitMs: 60_000, lockTimeout: '10s', statementTimeout: '15min' };

export interface MigrateResult {
  applied: string[];
}

/** `gateway db migrate`: applies pending migrations in order, refusing what docs/migrations.md ("Production") says to refuse. */
export async function migrate(options: EngineOptions): Promise<MigrateResult> {
  return withLock(options, async () => {
    const statuses = computeStatus(readMigrations(options.migrationsDir), await readLedger(options.session));
    refuseFailed(statuses);
    warnAboutDrift(statuses, options.log);
    const pending = statuses.flatMap((status) => (status.state === 'pending' && status.file ? [status.file] : []));
    refuseDataLoss(pending);
    if (pending.length === 0) {
      options.log('Database is up to date: no pending migrations.');
      return { applied: [] };
    }
    for (const migration of pending) {
      const started = performance.now();
      await applyMigration(options, migration);
      options.log(`Applied ${migration.name} (${Math.round(performance.now() - started)} ms)`);
    }
    options.log(`${pending.length} migration${pending.length === 1 ? '' : 's'} applied.`);
    return { applied: pending.map((migration) => migration.name) };
  });
}

/** `gateway db status`: read-only, so it takes no lock and creates no ledger. */
export async function migrationStatus(
  options: Pick<EngineOptions, 'session' | 'migrationsDir'>,
): Promise<MigrationStatus[]> {
  return computeStatus(readMigrations(options.migrationsDir), await readLedger(options.session));
}

export type ResolveAction = { applied: string } | { rolledBack: string };

/** `gateway db resolve`: marks a migration without running it, as Prisma's `migrate resolve` does. */
export async function resolveMigration(options: EngineOptions, action: ResolveAction): Promise<string> {
  return withLock(options, async () => {
    const files = readMigrations(options.migrationsDir);
    const statuses = computeStatus(files, await readLedger(options.session));
    const name = 'applied' in action ? action.applied : action.rolledBack;
    const status = statuses.find((candidate) => candidate.name === name);
    if (!status?.file) throw unknownMigration(name, files);

    if ('rolledBack' in action) {
      if (status.state !== 'failed') {
        throw new MigrationError(
          'invalid_state',
          `${name} is ${status.state}, not failed: --rolled-back only marks a failed migration so that it runs again.`,
        );
      }
      await markRolledBack(options.session, name);
      return `Marked ${name} as rolled back. Fix the file if needed; \`npx gateway db migrate\` will run it again.`;
    }

    switch (status.state) {
      case 'applied':
        throw new MigrationError('invalid_state', `${name} is already applied; there is nothing to mark.`);
      case 'modified':
        // The database has this migration; the file changed (or came from the old system).
        // Marking it applied accepts the file in this checkout as what the database holds.
        // Prisma's own resolve refuses an applied migration (P3008), so there is no Prisma row to copy:
        // the row keeps everything Prisma reads and only its checksum becomes this file's.
        await updateChecksum(
          options.session,
          status.row?.id ?? '',
          status.file.checksum,
          `checksum ${status.row?.checksum ?? '?'} replaced by ${status.file.checksum} (npx gateway db resolve --applied, ${new Date().toISOString()})`,
        );
        return (
          `Recorded this checkout's ${name} as the applied version: its ledger row now holds this file's checksum ` +
          "(the old one is kept in that row's logs)."
        );
      default: {
        // pending, or failed: a failed attempt is marked rolled back and a finished row recorded.
        const hadFailed = status.state === 'failed' && (await markRolledBack(options.session, name)) > 0;
        await recordApplied(options.session, {
          name,
          checksum: status.file.checksum,
          startedAt: new Date(),
          steps: 0,
          logs: 'marked applied by resolve --applied',
        });
        return `Marked ${name} as applied without running it${hadFailed ? ' (its failed attempt is now rolled back)' : ''}.`;
      }
    }
  });
}

async function withLock<T>(options: EngineOptions, work: () => Promise<T>): Promise<T> {
  const waitMs = options.lockWaitMs ?? lockWaitFromEnvironment() ?? DEFAULTS.lockWaitMs;
  const release = await acquireMigrationLock(options.session, waitMs, (holder, lock) =>
    options.log(
      lock === 'prisma'
        ? `Waiting for ${MIGRATION_LOCKS.prisma.name}, held by database backend pid ${holder ?? '?'}: the old system's ` +
            `Prisma Migrate is using this database (waiting up to ${waitMs} ms)…`
        : `Waiting for another migration runner${holder ? ` (backend pid ${holder})` : ''} to finish…`,
    ),
  );
  try {
    await ensureLedger(options.session);
    return await work();
  } finally {
    await release();
  }
}

/** `MIGRATION_LOCK_TIMEOUT_MS`: how long a run waits for the locks (docs/migrations.md); unset means the default. */
function lockWaitFromEnvironment(): number | undefined {
  const raw = process.env.MIGRATION_LOCK_TIMEOUT_MS?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new MigrationError(
      'usage',
      `MIGRATION_LOCK_TIMEOUT_MS is "${raw}"; it takes a whole number of milliseconds, e.g. 120000 (unset: ${DEFAULTS.lockWaitMs}).`,
    );
  }
  return Number(raw);
}

function refuseFailed(statuses: MigrationStatus[]): void {
  const failed = statuses.filter((status) => status.state === 'failed');
  if (failed.length === 0) return;
  const lines = failed.map((status) => {
    const when = status.row?.started_at.toISOString() ?? 'an earlier run';
    const log = status.row?.logs?.split('\n')[0];
    return `  ${status.name} (started ${when})${log ? `: ${log}` : ''}`;
  });
  const name = failed[0]?.name ?? 'NAME';
  throw new MigrationError(
    'failed_migration_recorded',
    `A failed migration is recorded, so nothing more is applied until it is resolved:\n${lines.join('\n')}\n` +
      'If the database holds none of it (or you undid it) and the file is fixed, let it run again:\n' +
      `  npx gateway db resolve --rolled-back ${name}\n` +
      'If you completed it by hand, record it as applied:\n' +
      `  npx gateway db resolve --applied ${name}`,
  );
}

function warnAboutDrift(statuses: MigrationStatus[], log: (line: string) => void): void {
  for (const status of statuses) {
    if (status.state === 'modified') {
      log(`Warning: ${status.name} changed after it was applied (see npx gateway db status).`);
    } else if (status.state === 'unknown') {
      log(`Warning: ${status.name} is applied in the database but not in this checkout (is the checkout older?).`);
    }
  }
}

function refuseDataLoss(pending: MigrationFile[]): void {
  const problems: string[] = [];
  for (const migration of pending) {
    if (migration.dataLossAccepted) continue;
    for (const finding of findDataLoss(splitSqlStatements(migration.sql))) {
      problems.push(`  ${migration.name}, line ${finding.line}: ${finding.reason}\n      ${finding.statement}`);
    }
  }
  if (problems.length === 0) return;
  throw new MigrationError(
    'data_loss',
    `Pending migrations would lose data and do not say they accept it:\n${problems.join('\n')}\n` +
      'Nothing was applied. If the loss is intended, add this line to the migration file and run again:\n' +
      `  ${ACCEPT_DATA_LOSS_MARKER} <why this data can go>`,
  );
}

async function applyMigration(options: EngineOptions, migration: MigrationFile): Promise<void> {
  const statements = splitSqlStatements(migration.sql);
  const lockTimeout = options.lockTimeout ?? DEFAULTS.lockTimeout;
  const statementTimeout = options.statementTimeout ?? DEFAULTS.statementTimeout;
  const startedAt = new Date();
  const { session } = options;

  if (migration.transactional) {
    let done = 0;
    try {
      await session.query('begin');
      await session.query(`set local lock_timeout = '${lockTimeout}'`);
      await session.query(`set local statement_timeout = '${statementTimeout}'`);
      for (const statement of statements) {
        await runStatement(session, statement, done);
        done += 1;
      }
      await recordApplied(session, { name: migration.name, checksum: migration.checksum, startedAt, steps: 1 });
      await session.query('commit');
    } catch (error) {
      await session.query('rollback').catch(() => {});
      const failure = asStatementFailure(error, migration);
      await recordStarted(session, {
        name: migration.name,
        checksum: migration.checksum,
        startedAt,
        logs: failure.log,
      });
      throw failure.error(true);
    }
    return;
  }

  // Outside a transaction each statement commits on its own; the ledger row shows how far it got.
  const rowId = await recordStarted(session, { name: migration.name, checksum: migration.checksum, startedAt });
  let done = 0;
  try {
    await session.query(`set lock_timeout = '${lockTimeout}'`);
    await session.query(`set statement_timeout = '${statementTimeout}'`);
    for (const statement of statements) {
      await runStatement(session, statement, done);
      done += 1;
      await recordProgress(session, rowId, { steps: done, finished: false });
    }
    await recordProgress(session, rowId, { steps: done, finished: true });
  } catch (error) {
    const failure = asStatementFailure(error, migration);
    await recordProgress(session, rowId, { steps: done, finished: false, logs: failure.log }).catch(() => {});
    throw failure.error(false, done);
  } finally {
    await session.query('reset lock_timeout').catch(() => {});
    await session.query('reset statement_timeout').catch(() => {});
  }
}

/** One statement of a migration failed: carried to the step that records it, with the statement. */
class StatementFailed extends GatewayError<'statement_failed'> {
  readonly statement: SqlStatement;
  readonly index: number;

  constructor(statement: SqlStatement, index: number, cause: unknown) {
    super('statement_failed', 'conflict', describeDatabaseError(cause), { cause });
    this.statement = statement;
    this.index = index;
  }
}

async function runStatement(session: Session, statement: SqlStatement, index: number): Promise<void> {
  try {
    await session.query(statement.text);
  } catch (error) {
    throw new StatementFailed(statement, index, error);
  }
}

function asStatementFailure(error: unknown, migration: MigrationFile) {
  const statement = error instanceof StatementFailed ? error.statement : null;
  const index = error instanceof StatementFailed ? error.index : -1;
  const reason = error instanceof StatementFailed ? error.message : describeDatabaseError(error);
  const where = statement ? `statement ${index + 1} (line ${statement.line})` : 'bookkeeping';
  const log = `${where}: ${reason}`;
  return {
    log,
    error: (transactional: boolean, appliedSteps = 0) => {
      const shown = statement ? `\n  ${abbreviate(statement.text)}\n` : '\n';
      const consequence = transactional
        ? 'Nothing of it was applied (it ran in one transaction); it is recorded as failed.\n' +
          `Fix ${relativeFile(migration)}, then run:\n` +
          `  npx gateway db resolve --rolled-back ${migration.name}\n  npx gateway db migrate`
        : `It ran without a transaction and ${appliedSteps} statement(s) before this one were applied; it is recorded as failed.\n` +
          'Finish or undo those statements by hand, then record what you did:\n' +
          `  npx gateway db resolve --applied ${migration.name}      (completed by hand)\n` +
          `  npx gateway db resolve --rolled-back ${migration.name}  (undone; it runs again)`;
      return new MigrationError(
        'migration_failed',
        `Migration ${migration.name} failed at ${where}:${shown}Postgres said: ${reason}\n${consequence}`,
      );
    },
  };
}

function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = error as Error & { code?: string; detail?: string; hint?: string };
  const parts = [details.message];
  if (details.detail) parts.push(`(${details.detail})`);
  if (details.hint) parts.push(`hint: ${details.hint}`);
  if (details.code) parts.push(`[SQLSTATE ${details.code}]`);
  return parts.join(' ');
}

function relativeFile(migration: MigrationFile): string {
  return `migrations/${migration.name}/migration.sql`;
}

function abbreviate(text: string): string {
  const folded = text.replace(/\s+/g, ' ');
  return folded.length > 160 ? `${folded.slice(0, 157)}...` : folded;
}

function unknownMigration(name: string, files: MigrationFile[]): MigrationError {
  const near = files.filter((file) => file.name.includes(name) || name.includes(file.name.slice(0, 14)));
  const suggestion = near.length > 0 ? ` Did you mean ${near.map((file) => file.name).join(' or ')}?` : '';
  return new MigrationError(
    'unknown_migration',
    `There is no migration named "${name}" in migrations/.${suggestion} Names are the folder names; ` +
      '`npx gateway db status` lists them.',
  );
}
