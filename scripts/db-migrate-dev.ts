// npm run db:migrate:dev -- --name X [--create-only] — apply pending, then turn schema changes into a migration.
import { escapeControl } from '../src/validation/control-characters.ts';
import { migrateDev } from './lib/migrations/dev.ts';
import { withMigrationSession } from './lib/migrations/session.ts';
import { migrationsDir, parseFlags, rootDir, runCommand, UsageError } from './lib/operator/cli.ts';
import { describeDatabase, resolveDatabaseUrl } from './lib/operator/database-url.ts';

const usage = 'npm run db:migrate:dev -- --name <what_it_does> [--create-only]';

await runCommand(async () => {
  const flags = parseFlags({ name: { type: 'string' }, 'create-only': { type: 'boolean', default: false } }, usage);
  if (!flags.name) throw new UsageError(`Name the migration (it never prompts).\nUsage: ${usage}`);
  const url = resolveDatabaseUrl({ rootDir, direct: true });
  console.log(`Migrating ${describeDatabase(url)} (development)`);
  await withMigrationSession(url, (connection) =>
    migrateDev({
      connection,
      migrationsDir: migrationsDir(),
      name: flags.name ?? '',
      createOnly: flags['create-only'] ?? false,
      log: (line) => console.log(escapeControl(line)),
    }),
  );
  return 0;
});
