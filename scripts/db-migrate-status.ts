// npm run db:migrate:status — what is applied, pending, failed, modified or unknown; exit 1 unless up to date.
import { escapeControl } from '../src/validation/control-characters.ts';
import { migrationStatus } from './lib/migrations/engine.ts';
import { formatStatus } from './lib/migrations/format-status.ts';
import { withMigrationSession } from './lib/migrations/session.ts';
import { isUpToDate } from './lib/migrations/status.ts';
import { migrationsDir, parseFlags, rootDir, runCommand } from './lib/operator/cli.ts';
import { describeDatabase, resolveDatabaseUrl } from './lib/operator/database-url.ts';

await runCommand(async () => {
  parseFlags({}, 'npm run db:migrate:status');
  const url = resolveDatabaseUrl({ rootDir, direct: true });
  const statuses = await withMigrationSession(url, ({ session }) =>
    migrationStatus({ session, migrationsDir: migrationsDir() }),
  );
  console.log(`Database ${describeDatabase(url)}\n`);
  // Names and logs of unknown or failed migrations come from the database's ledger: escaped (of
  // the logs, the first line, all the table shows).
  const printable = statuses.map((status) => ({
    ...status,
    name: escapeControl(status.name),
    ...(status.row
      ? {
          row: {
            ...status.row,
            logs: status.row.logs === null ? null : escapeControl(status.row.logs.split('\n')[0] ?? ''),
          },
        }
      : {}),
  }));
  console.log(formatStatus(printable));
  return isUpToDate(statuses) ? 0 : 1;
});
