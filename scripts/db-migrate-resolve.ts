// npm run db:migrate:resolve -- --applied NAME | --rolled-back NAME — mark a migration without running it.
import { escapeControl } from '../src/validation/control-characters.ts';
import { resolveMigration } from './lib/migrations/engine.ts';
import { withMigrationSession } from './lib/migrations/session.ts';
import { migrationsDir, parseFlags, rootDir, runCommand, terminalMessage, UsageError } from './lib/operator/cli.ts';
import { resolveDatabaseUrl } from './lib/operator/database-url.ts';

const usage = 'npm run db:migrate:resolve -- --applied <name> | --rolled-back <name>';

await runCommand(async () => {
  const flags = parseFlags({ applied: { type: 'string' }, 'rolled-back': { type: 'string' } }, usage);
  const applied = flags.applied;
  const rolledBack = flags['rolled-back'];
  if ((applied === undefined) === (rolledBack === undefined)) {
    throw new UsageError(`Give exactly one of --applied or --rolled-back.\nUsage: ${usage}`);
  }
  const url = resolveDatabaseUrl({ rootDir, direct: true });
  const message = await withMigrationSession(url, ({ session }) =>
    resolveMigration(
      { session, migrationsDir: migrationsDir(), log: (line) => console.log(escapeControl(line)) },
      applied !== undefined ? { applied } : { rolledBack: rolledBack ?? '' },
    ),
  );
  console.log(terminalMessage(message));
  return 0;
});
