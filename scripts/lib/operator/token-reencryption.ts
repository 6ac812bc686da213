import { and, asc, eq, gt, isNotNull, or, sql } from 'drizzle-orm';
import { serviceRegistry, users } from '../../../drizzle/schema.ts';
import { openEventsSecret, sealEventsSecret } from '../../../src/crypto/events-secret.ts';
import {
  decryptToken,
  encryptToken,
  type TokenContext,
  type TokenField,
  type TokenKeyring,
} from '../../../src/crypto/token-cipher.ts';
import type { Database } from '../../../src/db/client.ts';
import { classifyStoredToken } from '../../../src/users/github-tokens.ts';
import { type LegacyScheme, openLegacyValue } from '../legacy-tokens/index.ts';
import { count } from './commands/shared.ts';

/**
 * One pass over users' tokens, in keyset-paged batches, for two commands:
 * - `encrypt-plaintext` (`migrate:encrypt-tokens`): encrypt what the old system stored in plaintext;
 * - `rotate` (`tokens:rotate`): also re-encrypt every value that needs a previous key.
 * With `legacy` (`LEGACY_TOKEN_KEY`), `encrypt-plaintext` also carries over the values the old
 * system encrypted itself at v1.2: opened under its scheme, then sealed under the gateway's.
 * Every new value is decrypted again and compared before it is written. Each batch is written by a
 * single UPDATE that only touches rows still holding what was read, so a run killed at any moment
 * leaves whole rows, a concurrent writer wins, and the next run finishes the job.
 */
export type ReencryptionMode = 'encrypt-plaintext' | 'rotate';

export interface ReencryptionOptions {
  db: Database;
  keyring: TokenKeyring;
  mode: ReencryptionMode;
  dryRun: boolean;
  batchSize: number;
  /** One line per batch (`--verbose`); never a token, only counts. */
  log: (line: string) => void;
  /** Called after each batch with the rows done so far (the progress bar). */
  onProgress?: (rowsDone: number) => void;
  /** `encrypt-plaintext` only: the old system's key and the scheme its v1.2 values were written in. */
  legacy?: { scheme: LegacyScheme; key: string };
}

/** Why a token was left as it was: each kind is counted, and a few of its rows named, never listed in full. */
export type ProblemKind = 'no_key' | 'round_trip' | 'malformed_token' | 'legacy_unopened';

export interface Problem {
  count: number;
  /** The first few rows it happened to: a user id and a column, never a value. */
  examples: TokenContext[];
}

const EXAMPLES_PER_KIND = 3;

export interface ReencryptionReport {
  rows: number;
  /** Tokens written (or, in a dry run, that would be) under the current key. */
  encrypted: number;
  /** Tokens left as they were because they already are what the mode wants. */
  skipped: number;
  nulls: number;
  /** Tokens that could not be read or did not survive the round trip; left untouched. */
  failed: number;
  /**
   * `encrypt-plaintext` only: values in the encrypted format that no configured key opens (the old
   * system's own encryption, or a key missing from the previous keys). Left untouched and reported:
   * not this command's failure, but those people must sign in again before a service gets a token.
   */
  unreadable: number;
  /** Of `encrypted`, the old system's own v1.2 values carried over under LEGACY_TOKEN_KEY. */
  fromLegacy: number;
  /** The old system's scheme in use (its printed id), or null without LEGACY_TOKEN_KEY. */
  legacyScheme: string | null;
  /** Rows another writer changed between our read and our write; left to it (run again to check). */
  changedMeanwhile: number;
  /** What `failed` and `unreadable` are made of, by kind. */
  problems: Partial<Record<ProblemKind, Problem>>;
  /** How many keys TOKEN_ENCRYPTION_PREVIOUS_KEYS held: the hint for `no_key` depends on it. */
  previousKeys: number;
  batches: number;
  /** The most rows held at once: the batch size, whatever the table's size. */
  peakRowsInMemory: number;
  elapsedMs: number;
}

interface RowUpdate {
  id: string;
  tokens: number;
  legacyTokens: number;
  oldAccess: string | null;
  oldRefresh: string | null;
  newAccess: string | null;
  newRefresh: string | null;
}

export async function reencryptTokens(options: ReencryptionOptions): Promise<ReencryptionReport> {
  const started = performance.now();
  const report: ReencryptionReport = {
    rows: 0,
    encrypted: 0,
    skipped: 0,
    nulls: 0,
    failed: 0,
    unreadable: 0,
    fromLegacy: 0,
    legacyScheme: options.legacy?.scheme.id ?? null,
    changedMeanwhile: 0,
    problems: {},
    previousKeys: options.keyring.previous.length,
    batches: 0,
    peakRowsInMemory: 0,
    elapsedMs: 0,
  };
  let cursor: string | null = null;
  while (true) {
    const rows = await options.db
      .select({ id: users.id, accessToken: users.accessToken, refreshToken: users.refreshToken })
      .from(users)
      .where(cursor === null ? undefined : gt(users.id, cursor))
      .orderBy(asc(users.id))
      .limit(options.batchSize);
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]?.id ?? null;
    report.batches += 1;
    report.rows += rows.length;
    report.peakRowsInMemory = Math.max(report.peakRowsInMemory, rows.length);

    // WebCrypto work runs off the main thread, so the rows of a batch are prepared concurrently.
    const prepared = await Promise.all(
      rows.map(async (row) => {
        const [access, refresh] = await Promise.all([
          nextValue(row.accessToken, { field: 'access_token', userId: row.id }, options, report),
          nextValue(row.refreshToken, { field: 'refresh_token', userId: row.id }, options, report),
        ]);
        return { row, access, refresh };
      }),
    );
    const updates: RowUpdate[] = [];
    for (const { row, access, refresh } of prepared) {
      if (access === undefined && refresh === undefined) continue;
      updates.push({
        id: row.id,
        tokens: Number(access !== undefined) + Number(refresh !== undefined),
        legacyTokens: Number(access?.legacy === true) + Number(refresh?.legacy === true),
        oldAccess: row.accessToken,
        oldRefresh: row.refreshToken,
        newAccess: access === undefined ? row.accessToken : access.sealed,
        newRefresh: refresh === undefined ? row.refreshToken : refresh.sealed,
      });
    }

    const written =
      updates.length > 0 && !options.dryRun ? await writeBatch(options.db, updates) : new Set(updates.map((u) => u.id));
    report.changedMeanwhile += updates.length - written.size;
    for (const update of updates) {
      if (!written.has(update.id)) continue;
      report.encrypted += update.tokens;
      report.fromLegacy += update.legacyTokens;
    }
    options.onProgress?.(report.rows);
    options.log(
      `batch ${report.batches}: ${rows.length} rows read, ${count(written.size, 'row')} ${options.dryRun ? 'would be ' : ''}written ` +
        `(${report.rows} rows so far)`,
    );
  }
  report.elapsedMs = Math.round(performance.now() - started);
  return report;
}

/** A new value to store, and whether it was the old system's own encryption. */
interface NextValue {
  sealed: string;
  legacy: boolean;
}

/**
 * The value to store instead of `stored`, or undefined to leave it. Never logs a token: only the
 * row id and what went wrong.
 */
async function nextValue(
  stored: string | null,
  context: TokenContext,
  options: ReencryptionOptions,
  report: ReencryptionReport,
): Promise<NextValue | undefined> {
  const kind = classifyStoredToken(stored);
  if (kind === 'null' || stored === null) {
    report.nulls += 1;
    return undefined;
  }
  let plaintext: string;
  let legacy = false;
  if (kind === 'plaintext') {
    plaintext = stored;
  } else {
    try {
      const opened = await decryptToken(stored, options.keyring, context);
      // Already encrypted is all `encrypt-plaintext` asks; `rotate` also wants the current key.
      if (options.mode === 'encrypt-plaintext' || opened.keyIndex === 0) {
        report.skipped += 1;
        return undefined;
      }
      plaintext = opened.plaintext;
    } catch (error) {
      const opened = options.legacy
        ? await openLegacyValue(stored, options.legacy.scheme, options.legacy.key)
        : undefined;
      if (opened?.ok) {
        plaintext = opened.plaintext;
        legacy = true;
      } else {
        const kind = opened
          ? 'legacy_unopened'
          : (error as { code?: string }).code === 'malformed_token'
            ? 'malformed_token'
            : 'no_key';
        // For `encrypt-plaintext` an unreadable value is not its own failure (see `unreadable`).
        if (options.mode === 'encrypt-plaintext') report.unreadable += 1;
        else report.failed += 1;
        noteProblem(report, kind, context, options.log);
        return undefined;
      }
    }
  }
  const sealed = await encryptToken(plaintext, options.keyring, context);
  const check = await decryptToken(sealed, { current: options.keyring.current, previous: [] }, context).catch(
    () => null,
  );
  if (check?.plaintext !== plaintext) {
    report.failed += 1;
    noteProblem(report, 'round_trip', context, options.log);
    return undefined;
  }
  return { sealed, legacy };
}

async function writeBatch(db: Database, updates: RowUpdate[]): Promise<Set<string>> {
  // One array parameter per column (drizzle would spread a plain array into a row of parameters).
  const column = <K extends Exclude<keyof RowUpdate, 'tokens'>>(key: K) =>
    sql.param(updates.map((update) => update[key]));
  const result = await db.execute<{ id: string }>(sql`
    update ${users} as u
       set access_token = v.new_access, refresh_token = v.new_refresh
      from unnest(${column('id')}::uuid[], ${column('oldAccess')}::text[], ${column('oldRefresh')}::text[],
                  ${column('newAccess')}::text[], ${column('newRefresh')}::text[])
           as v(id, old_access, old_refresh, new_access, new_refresh)
     where u.id = v.id
       and u.access_token is not distinct from v.old_access
       and u.refresh_token is not distinct from v.old_refresh
    returning u.id`);
  return new Set(result.rows.map((row) => row.id));
}

/** Counts it; `--verbose` also names each one (user id and column, never the value). */
function noteProblem(
  report: ReencryptionReport,
  kind: ProblemKind,
  context: TokenContext,
  log: (line: string) => void,
): void {
  log(`  ${describe(context)}: ${PROBLEM_LABEL[kind]}`);
  const problem = report.problems[kind] ?? { count: 0, examples: [] };
  report.problems[kind] = problem;
  problem.count += 1;
  if (problem.examples.length < EXAMPLES_PER_KIND) problem.examples.push(context);
}

/**
 * The total for the progress bar. count(*) reads the users table's primary-key index once (an
 * index-only scan where the visibility map allows): milliseconds for 100,000 rows, against the
 * seconds the crypto of the pass takes. Rows added meanwhile only make the bar end early.
 */
export async function countUsers(db: Database): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(users);
  return row?.count ?? 0;
}

function describe(context: TokenContext): string {
  return `user ${context.userId} ${context.field satisfies TokenField}`;
}

const PROBLEM_LABEL: Record<ProblemKind, string> = {
  no_key: 'no configured key opens them',
  malformed_token: 'in the encrypted format, but damaged (altered in the database?)',
  round_trip: 'the new value did not decrypt to the same token (a bug: please report it)',
  legacy_unopened:
    "in the encrypted format, but neither a configured key nor LEGACY_TOKEN_KEY under the old system's scheme opens them",
};

function problemLines(report: ReencryptionReport, only: ProblemKind[]): string[] {
  return only.flatMap((kind) => {
    const problem = report.problems[kind];
    if (!problem) return [];
    return [
      `    ${count(problem.count, 'token')}: ${PROBLEM_LABEL[kind]}`,
      `    e.g. ${problem.examples.map(describe).join(', ')}`,
    ];
  });
}

/** The one line that says what is most likely wrong with the keys, and which variable fixes it. */
function keyHint(report: ReencryptionReport, mode: ReencryptionMode): string | null {
  if (report.problems.no_key) {
    const where =
      report.previousKeys === 0
        ? 'TOKEN_ENCRYPTION_PREVIOUS_KEYS is not set: set it to the key they were written with'
        : `TOKEN_ENCRYPTION_PREVIOUS_KEYS (${report.previousKeys} key${report.previousKeys === 1 ? '' : 's'}) ` +
          'does not list the key they were written with: add it';
    if (mode === 'rotate')
      return (
        `  Most likely TOKEN_ENCRYPTION_KEY is a new key and ${where} (comma-separated if several), ` +
        'then run again (docs/security.md).'
      );
    return (
      '  Either the old system encrypted them itself (set LEGACY_TOKEN_KEY to its key and run again: ' +
      `\`npx gateway tokens detect-legacy\` checks it first), or ${where} ` +
      '(docs/security.md). Until then, services get 409 token_unreadable for those people.'
    );
  }
  if (report.problems.legacy_unopened)
    return (
      `  The old system's scheme (${report.legacyScheme}) opens most of its values but not these: they may have been ` +
      'written under another key or scheme, or altered (`--verbose` names each by user id and column); ' +
      'services get 409 token_unreadable for those people until they sign in again.'
    );
  if (mode === 'rotate' && report.failed === 0 && report.encrypted === 0 && report.skipped > 0)
    return (
      '  Nothing needed re-encrypting: every token already opens with TOKEN_ENCRYPTION_KEY. If you have just made a ' +
      'new key, this is still the old one: put the new key in TOKEN_ENCRYPTION_KEY and this one in ' +
      'TOKEN_ENCRYPTION_PREVIOUS_KEYS (docs/security.md).'
    );
  return null;
}

export function formatReport(report: ReencryptionReport, mode: ReencryptionMode, dryRun: boolean): string {
  const verb = dryRun ? 'would be encrypted' : mode === 'rotate' ? 're-encrypted under the current key' : 'encrypted';
  const skipped = mode === 'rotate' ? 'already under the current key' : 'already encrypted';
  const rate = report.elapsedMs > 0 ? Math.round((report.rows / report.elapsedMs) * 1000) : report.rows;
  return [
    `${dryRun ? 'Dry run: nothing was written. ' : ''}${count(report.rows, 'user')} in ${count(report.batches, 'batch', 'batches')}, ${report.elapsedMs} ms (${rate} rows/s).`,
    `  ${count(report.encrypted, 'token')} ${verb}`,
    ...(report.legacyScheme !== null
      ? [`    of which ${report.fromLegacy} the old system's v1.2 values (scheme ${report.legacyScheme})`]
      : []),
    `  ${count(report.skipped, 'token')} ${skipped}, skipped`,
    `  ${count(report.nulls, 'null token')}, kept null`,
    `  ${count(report.failed, 'token')} failed${report.failed > 0 ? '; left as they were:' : ''}`,
    // `encrypt-plaintext` counts what no key opens as unreadable, not failed: each list its own kinds.
    ...(report.failed > 0
      ? problemLines(report, mode === 'rotate' ? ['no_key', 'malformed_token', 'round_trip'] : ['round_trip'])
      : []),
    ...(report.unreadable > 0
      ? [
          `  ${count(report.unreadable, 'token')} encrypted, but no configured key reads them; left as they were:`,
          ...problemLines(report, ['no_key', 'malformed_token', 'legacy_unopened']),
        ]
      : []),
    ...[keyHint(report, mode)].filter((line) => line !== null),
    ...(report.changedMeanwhile > 0
      ? [`  ${count(report.changedMeanwhile, 'row')} changed by another writer meanwhile; run again to check them`]
      : []),
    ...(mode === 'encrypt-plaintext' && noPlaintextLeft(report, dryRun)
      ? [
          'No plaintext token is left: TOKEN_PLAINTEXT=refuse can now be set, so that a plaintext value written ' +
            'from now on is never handed out (`npx wrangler secret put TOKEN_PLAINTEXT` and type refuse, or ' +
            'TOKEN_PLAINTEXT = "refuse" under [vars] in wrangler.toml; docs/deploy.md).',
        ]
      : []),
  ].join('\n');
}

/** Every plaintext token this pass met is encrypted now (a dry run: it met none). */
function noPlaintextLeft(report: ReencryptionReport, dryRun: boolean): boolean {
  return report.failed === 0 && report.changedMeanwhile === 0 && (!dryRun || report.encrypted === 0);
}

/** What `tokens rotate` did to the services' events secrets (docs/api.md, "Events pushed to your service"). */
export interface EventsSecretsReport {
  /** Secrets stored (current and previous ones of a rotation's grace period). */
  secrets: number;
  /** Written (or, in a dry run, that would be) under the current key. */
  reencrypted: number;
  /** No configured key opens them, or the new value did not open again: left as they were. */
  failed: number;
  /** Services another writer changed between our read and our write (run again to check them). */
  changedMeanwhile: number;
}

/**
 * Re-seals under the current key every events secret (current and previous) that needs a previous
 * key, so the old key can be dropped: a secret is opened, sealed again for the same service row,
 * opened again under the current key alone and compared, then written only over the values read.
 * The services are few (one row each), so one read holds them all. Never logs a secret.
 */
export async function reencryptEventsSecrets(options: {
  db: Database;
  keyring: TokenKeyring;
  dryRun: boolean;
  log: (line: string) => void;
}): Promise<EventsSecretsReport> {
  const report: EventsSecretsReport = { secrets: 0, reencrypted: 0, failed: 0, changedMeanwhile: 0 };
  const rows = await options.db
    .select({
      id: serviceRegistry.id,
      current: serviceRegistry.eventsSecret,
      previous: serviceRegistry.eventsPreviousSecret,
    })
    .from(serviceRegistry)
    .where(or(isNotNull(serviceRegistry.eventsSecret), isNotNull(serviceRegistry.eventsPreviousSecret)))
    .orderBy(asc(serviceRegistry.id));
  const resealed = async (stored: string | null, serviceId: string, which: string): Promise<string | undefined> => {
    if (stored === null) return undefined;
    report.secrets += 1;
    try {
      const opened = await openEventsSecret(stored, options.keyring, serviceId);
      if (opened.keyIndex === 0) return undefined;
      const sealed = await sealEventsSecret(opened.plaintext, options.keyring, serviceId);
      const check = await openEventsSecret(sealed, { current: options.keyring.current, previous: [] }, serviceId);
      if (check.plaintext !== opened.plaintext) throw new Error('round trip');
      return sealed;
    } catch {
      report.failed += 1;
      options.log(
        `  service ${serviceId} ${which} events secret: no configured key opens it, or it did not survive the round trip`,
      );
      return undefined;
    }
  };
  for (const row of rows) {
    const current = await resealed(row.current, row.id, 'current');
    const previous = await resealed(row.previous, row.id, 'previous');
    const changes = Number(current !== undefined) + Number(previous !== undefined);
    if (changes === 0) continue;
    if (!options.dryRun) {
      const written = await options.db
        .update(serviceRegistry)
        .set({
          ...(current !== undefined ? { eventsSecret: current } : {}),
          ...(previous !== undefined ? { eventsPreviousSecret: previous } : {}),
        })
        .where(
          and(
            eq(serviceRegistry.id, row.id),
            sql`${serviceRegistry.eventsSecret} is not distinct from ${row.current}`,
            sql`${serviceRegistry.eventsPreviousSecret} is not distinct from ${row.previous}`,
          ),
        )
        .returning({ id: serviceRegistry.id });
      if (written.length === 0) {
        report.changedMeanwhile += 1;
        continue;
      }
    }
    report.reencrypted += changes;
  }
  return report;
}

export function formatEventsSecretsReport(report: EventsSecretsReport, dryRun: boolean): string {
  return [
    `Events secrets: ${count(report.secrets, 'secret')}, ${report.reencrypted} ${dryRun ? 'would be ' : ''}re-encrypted under the current key` +
      `${report.failed > 0 ? `, ${report.failed} failed (left as they were: \`--verbose\` names the services)` : ''}.`,
    ...(report.changedMeanwhile > 0
      ? [`  ${count(report.changedMeanwhile, 'service')} changed by another writer meanwhile; run again to check them`]
      : []),
  ].join('\n');
}
