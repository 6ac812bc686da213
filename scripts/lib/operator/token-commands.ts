import { loadTokenKeyring } from '../../../src/crypto/token-cipher.ts';
import { openNodeDatabase } from '../node-database.ts';
import { jsonForTerminal, numberFlag, rootDir } from './cli.ts';
import { count } from './commands/shared.ts';
import { explainDatabaseFailure } from './database-cause.ts';
import { describeDatabase, resolveDatabaseUrl } from './database-url.ts';
import {
  findLegacyScheme,
  forcedLegacyScheme,
  LegacyKeyOpensNothingError,
  opensNothingMessage,
  readLegacyKey,
} from './legacy-detection.ts';
import { startProgress } from './progress.ts';
import { MissingSettingError, readSetting } from './settings.ts';
import {
  countUsers,
  formatEventsSecretsReport,
  formatReport,
  type ReencryptionMode,
  reencryptEventsSecrets,
  reencryptTokens,
} from './token-reencryption.ts';

const MAX_BATCH = 5_000;

/** The flags `gateway tokens encrypt` and `gateway tokens rotate` take, as parsed. */
export interface ReencryptionFlags {
  dryRun: boolean;
  batchSize: string;
  verbose: boolean;
  /** `tokens encrypt` only: the old system's scheme, instead of detecting it. */
  legacyScheme?: string;
}

const LEGACY_SAMPLE = 100;

/** TOKEN_ENCRYPTION_KEY and TOKEN_ENCRYPTION_PREVIOUS_KEYS, as the Worker has them. */
export async function configuredKeyring() {
  const currentKey = readSetting('TOKEN_ENCRYPTION_KEY', { rootDir });
  if (!currentKey) {
    throw new MissingSettingError(
      'TOKEN_ENCRYPTION_KEY is not set. Set it in the environment or .dev.vars to the key the Worker uses ' +
        '(docs/security.md); `npx gateway tokens generate-key` makes a new one.',
    );
  }
  return loadTokenKeyring(currentKey, readSetting('TOKEN_ENCRYPTION_PREVIOUS_KEYS', { rootDir }) ?? '');
}

/** The shared body of `gateway tokens encrypt` and `gateway tokens rotate`: keys, database, report. */
export async function runReencryptionCommand(
  mode: ReencryptionMode,
  flags: ReencryptionFlags,
  usage: string,
): Promise<number> {
  const batchSize = numberFlag(flags.batchSize, {
    name: 'batch-size',
    min: 1,
    max: MAX_BATCH,
    unit: 'rows',
    usage,
  });
  const keyring = await configuredKeyring();
  const legacyKey = mode === 'encrypt-plaintext' ? readLegacyKey(rootDir) : undefined;
  const forced = forcedLegacyScheme(flags.legacyScheme, usage);
  if (forced && !legacyKey)
    throw new MissingSettingError(
      "--legacy-scheme needs LEGACY_TOKEN_KEY: set it to the old system's key (environment or .dev.vars).",
    );
  const url = resolveDatabaseUrl({ rootDir });
  const dryRun = flags.dryRun;
  console.log(
    `${mode === 'rotate' ? 'Rotating' : 'Encrypting'} GitHub tokens in ${describeDatabase(url)}${dryRun ? ' (dry run)' : ''}`,
  );
  const database = await openNodeDatabase(url);
  try {
    // On stderr, so that stdout holds only the report; a bar on a terminal, a few lines elsewhere.
    const legacy = legacyKey ? await legacyToCarryOver(database.db, keyring, legacyKey, forced) : undefined;
    const progress = startProgress({ total: await countUsers(database.db), stream: process.stderr });
    const report = await reencryptTokens({
      ...(legacy ? { legacy } : {}),
      db: database.db,
      keyring,
      mode,
      dryRun,
      batchSize,
      log: flags.verbose ? (line) => console.log(line) : () => {},
      onProgress: (rowsDone) => progress.update(rowsDone),
    }).finally(() => progress.finish());
    console.log(formatReport(report, mode, dryRun));
    // A rotation also re-seals the services' events secrets, so that the old key can go.
    const events =
      mode === 'rotate'
        ? await reencryptEventsSecrets({
            db: database.db,
            keyring,
            dryRun,
            log: flags.verbose ? (line) => console.log(line) : () => {},
          })
        : null;
    if (events) console.log(formatEventsSecretsReport(events, dryRun));
    return report.failed > 0 || (events?.failed ?? 0) > 0 ? 1 : 0;
  } catch (error) {
    throw (await explainDatabaseFailure(error, url)) ?? error;
  } finally {
    await database.close();
  }
}

/**
 * With LEGACY_TOKEN_KEY set: the old system's scheme, detected from a sample (or forced), before
 * anything is written. A key that opens none of the sample stops the run (exit 1): carrying on
 * would only list every old value as unreadable.
 */
async function legacyToCarryOver(
  db: Parameters<typeof findLegacyScheme>[0]['db'],
  keyring: Parameters<typeof findLegacyScheme>[0]['keyring'],
  legacyKey: string,
  forced: Parameters<typeof findLegacyScheme>[0]['forced'],
) {
  const finding = await findLegacyScheme({
    db,
    keyring,
    legacyKey,
    sampleSize: LEGACY_SAMPLE,
    ...(forced ? { forced } : {}),
  });
  if (finding.sample.tokens.length === 0) {
    console.log(
      'LEGACY_TOKEN_KEY is set, but every encrypted token opens with a configured key: nothing of the old system is left.',
    );
    return undefined;
  }
  if (!finding.scheme) throw new LegacyKeyOpensNothingError(opensNothingMessage(finding.sample));
  const opened = `opens ${finding.detection?.opened ?? 0} of ${finding.detection?.sampled ?? 0} sampled${forced ? ', forced' : ''}`;
  console.log(`The old system's values: scheme ${finding.scheme.id} (${opened}).`);
  return { scheme: finding.scheme, key: legacyKey };
}

/** The flags `gateway tokens detect-legacy` takes, as parsed. */
export interface DetectLegacyFlags {
  sample: string;
  json: boolean;
}

/**
 * `gateway tokens detect-legacy`: which scheme the old system wrote its v1.2 values in, learned
 * from a sample of those no configured key opens; exit 0 when one opens them, 1 when none does.
 * Reads only: nothing is written.
 */
export async function runDetectLegacyCommand(flags: DetectLegacyFlags, usage: string): Promise<number> {
  const sampleSize = numberFlag(flags.sample, { name: 'sample', min: 1, max: 1000, unit: 'values', usage });
  const legacyKey = readLegacyKey(rootDir);
  if (!legacyKey)
    throw new MissingSettingError(
      "LEGACY_TOKEN_KEY is not set. Set it (environment or .dev.vars) to the old system's token encryption key, " +
        'exactly as its environment held it (docs/migrations.md, "Adopting the old system\'s database").',
    );
  const keyring = await configuredKeyring();
  const url = resolveDatabaseUrl({ rootDir });
  const database = await openNodeDatabase(url);
  try {
    if (!flags.json) console.log(`Sampling the tokens no configured key opens in ${describeDatabase(url)}`);
    const finding = await findLegacyScheme({ db: database.db, keyring, legacyKey, sampleSize });
    const { tokens } = finding.sample;
    const detection = finding.detection;
    const unopened = (detection?.unopened ?? []).map(({ position, reason }) => ({
      user_id: tokens[position]?.context.userId ?? null,
      column: tokens[position]?.context.field ?? null,
      reason,
    }));
    if (flags.json) {
      console.log(
        jsonForTerminal({
          scheme: finding.scheme?.id ?? null,
          sampled: tokens.length,
          opened: detection?.opened ?? 0,
          not_opened: unopened,
          other_schemes: (detection?.otherSchemes ?? []).map(({ scheme, opened }) => ({ scheme: scheme.id, opened })),
          elapsed_ms: Math.round(detection?.elapsedMs ?? 0),
        }),
      );
    } else if (tokens.length === 0) {
      console.log(
        'Every encrypted token opens with a configured key: nothing of the old system is left to carry over.',
      );
    } else if (!finding.scheme || !detection) {
      console.log(opensNothingMessage(finding.sample));
    } else {
      console.log(
        `Scheme ${finding.scheme.id} opens ${detection.opened} of the ${count(detection.sampled, 'sampled value')} ` +
          `(${(detection.elapsedMs / 1000).toFixed(1)} s).`,
      );
      for (const other of detection.otherSchemes)
        console.log(`  Also: ${other.scheme.id} opens ${other.opened} of them (the old system changed scheme?).`);
      for (const value of unopened)
        console.log(
          `  Not opened: user ${value.user_id} ${value.column} (${value.reason === 'shape' ? 'not in any known shape' : 'no scheme opens it'})`,
        );
      console.log(
        'Carry them over with `npx gateway tokens encrypt --dry-run`, then without --dry-run, LEGACY_TOKEN_KEY still set.',
      );
    }
    return tokens.length > 0 && !finding.scheme ? 1 : 0;
  } catch (error) {
    throw (await explainDatabaseFailure(error, url)) ?? error;
  } finally {
    await database.close();
  }
}
