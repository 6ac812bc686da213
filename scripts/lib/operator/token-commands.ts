import { loadTokenKeyring } from '../../../src/crypto/token-cipher.ts';
import { openNodeDatabase } from '../node-database.ts';
import { numberFlag, rootDir } from './cli.ts';
import { explainDatabaseFailure } from './database-cause.ts';
import { describeDatabase, resolveDatabaseUrl } from './database-url.ts';
import { startProgress } from './progress.ts';
import { MissingSettingError, readSetting } from './settings.ts';
import { countUsers, formatReport, type ReencryptionMode, reencryptTokens } from './token-reencryption.ts';

const MAX_BATCH = 5_000;

/** The flags `gateway tokens encrypt` and `gateway tokens rotate` take, as parsed. */
export interface ReencryptionFlags {
  dryRun: boolean;
  batchSize: string;
  verbose: boolean;
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
  const currentKey = readSetting('TOKEN_ENCRYPTION_KEY', { rootDir });
  if (!currentKey) {
    throw new MissingSettingError(
      'TOKEN_ENCRYPTION_KEY is not set. Set it in the environment or .dev.vars to the key the Worker uses ' +
        '(docs/security.md); `npm run tokens:generate-key` makes a new one.',
    );
  }
  const keyring = await loadTokenKeyring(currentKey, readSetting('TOKEN_ENCRYPTION_PREVIOUS_KEYS', { rootDir }) ?? '');
  const url = resolveDatabaseUrl({ rootDir });
  const dryRun = flags.dryRun;
  console.log(
    `${mode === 'rotate' ? 'Rotating' : 'Encrypting'} GitHub tokens in ${describeDatabase(url)}${dryRun ? ' (dry run)' : ''}`,
  );
  const database = await openNodeDatabase(url);
  try {
    // On stderr, so that stdout holds only the report; a bar on a terminal, a few lines elsewhere.
    const progress = startProgress({ total: await countUsers(database.db), stream: process.stderr });
    const report = await reencryptTokens({
      db: database.db,
      keyring,
      mode,
      dryRun,
      batchSize,
      log: flags.verbose ? (line) => console.log(line) : () => {},
      onProgress: (rowsDone) => progress.update(rowsDone),
    }).finally(() => progress.finish());
    console.log(formatReport(report, mode, dryRun));
    return report.failed > 0 ? 1 : 0;
  } catch (error) {
    throw (await explainDatabaseFailure(error, url)) ?? error;
  } finally {
    await database.close();
  }
}
