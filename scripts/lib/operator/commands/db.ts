import type { Command } from 'commander';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { migrateDev } from '../../migrations/dev.ts';
import { type DriftReport, detectDrift } from '../../migrations/drift.ts';
import { migrate, migrationStatus, resolveMigration } from '../../migrations/engine.ts';
import { formatStatus } from '../../migrations/format-status.ts';
import { withMigrationSession } from '../../migrations/session.ts';
import { isUpToDate } from '../../migrations/status.ts';
import { migrationStatusJson } from '../../migrations/status-json.ts';
import { jsonForTerminal, migrationsDir, rootDir, runCommand, terminalMessage, UsageError } from '../cli.ts';
import { describeDatabase, resolveDatabaseUrl } from '../database-url.ts';
import { usageLine } from './shared.ts';

const log = (line: string) => console.log(escapeControl(line));

/** `gateway db ...`: the migration commands (docs/migrations.md). */
export function addDatabaseCommands(program: Command): void {
  const db = program.command('db').description('migrations: apply, write, inspect, mark');

  db.command('migrate')
    .description('production deploy: apply pending migrations, refusing failed or data-losing ones')
    .action(() =>
      runCommand(async () => {
        const url = resolveDatabaseUrl({ rootDir, direct: true });
        console.log(`Migrating ${describeDatabase(url)}`);
        await withMigrationSession(url, ({ session }) => migrate({ session, migrationsDir: migrationsDir(), log }));
        return 0;
      }),
    );

  db.command('migrate-dev')
    .description('apply pending migrations, then write drizzle/schema.ts changes as a new migration')
    .usage('[--name <what_it_does>] [--create-only]')
    .option(
      '--name <what_it_does>',
      'the new migration, in snake_case; needed only when drizzle/schema.ts differs (it never prompts)',
    )
    .option('--create-only', 'write the migration without applying it', false)
    .action((flags: { name?: string; createOnly: boolean }) =>
      runCommand(async () => {
        const url = resolveDatabaseUrl({ rootDir, direct: true });
        console.log(`Migrating ${describeDatabase(url)} (development)`);
        await withMigrationSession(url, (connection) =>
          migrateDev({
            connection,
            migrationsDir: migrationsDir(),
            ...(flags.name === undefined ? {} : { name: flags.name }),
            createOnly: flags.createOnly,
            log,
          }),
        );
        return 0;
      }),
    );

  db.command('status')
    .description('applied / pending / failed / modified / unknown migrations, then drift; exit 1 unless up to date')
    .option('--json', 'print JSON: up_to_date, migrations (name, state, applied_at, ...) and drift', false)
    .action((flags: { json: boolean }) =>
      runCommand(async () => {
        const url = resolveDatabaseUrl({ rootDir, direct: true });
        // Drift only once every migration is applied: against a pending one it would be noise.
        const { statuses, drift } = await withMigrationSession(url, async (connection) => {
          const found = await migrationStatus({ session: connection.session, migrationsDir: migrationsDir() });
          const report: DriftReport | undefined = isUpToDate(found)
            ? await detectDrift({ url, connection, migrationsDir: migrationsDir() })
            : undefined;
          return { statuses: found, drift: report };
        });
        const clean = isUpToDate(statuses) && (drift?.differences.length ?? 0) === 0;
        if (flags.json) {
          console.log(jsonForTerminal(migrationStatusJson(statuses, drift)));
          return clean ? 0 : 1;
        }
        console.log(`Database ${describeDatabase(url)}\n`);
        // Names and logs of unknown or failed migrations come from the database's ledger: escaped
        // (of the logs, the first line, all the table shows).
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
        console.log(terminalMessage(formatStatus(printable, drift)));
        return clean ? 0 : 1;
      }),
    );

  db.command('resolve')
    .description('mark a migration applied or rolled back without running it')
    .usage('--applied <name> | --rolled-back <name>')
    .option('--applied <name>', 'record this migration as applied (its changes are already in the database)')
    .option('--rolled-back <name>', 'record this failed migration as rolled back (so it runs again)')
    .action((flags: { applied?: string; rolledBack?: string }, command: Command) =>
      runCommand(async () => {
        const { applied, rolledBack } = flags;
        if ((applied === undefined) === (rolledBack === undefined)) {
          throw new UsageError(`Give exactly one of --applied or --rolled-back.\nUsage: ${usageLine(command)}`);
        }
        const url = resolveDatabaseUrl({ rootDir, direct: true });
        const message = await withMigrationSession(url, ({ session }) =>
          resolveMigration(
            { session, migrationsDir: migrationsDir(), log },
            applied !== undefined ? { applied } : { rolledBack: rolledBack ?? '' },
          ),
        );
        console.log(terminalMessage(message));
        return 0;
      }),
    );
}
