import type { EngineOptions } from '../../../scripts/lib/migrations/engine.ts';
import { type MigrationConnection, withMigrationSession } from '../../../scripts/lib/migrations/session.ts';
import { runScript } from './child.ts';

export interface EngineRun {
  lines: string[];
  options: (connection: MigrationConnection) => EngineOptions;
}

/** Engine options on a fresh connection to `url`, collecting what the engine logs. */
export async function withEngine<T>(
  url: string,
  migrationsDir: string,
  work: (options: EngineOptions, connection: MigrationConnection) => Promise<T>,
  extra: Partial<EngineOptions> = {},
): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const result = await withMigrationSession(url, (connection) =>
    work({ session: connection.session, migrationsDir, log: (line) => lines.push(line), ...extra }, connection),
  );
  return { result, lines };
}

/** Runs an npm-script front end (`scripts/<name>.ts`) as its own process, the way an operator would. */
export async function runMigrationCommand(
  script: string,
  args: string[],
  env: { DATABASE_URL?: string; MIGRATIONS_DIR?: string },
): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _url, DIRECT_DATABASE_URL: _direct, ...inherited } = process.env;
  const child = runScript(`scripts/${script}.ts`, args, { ...inherited, ...env });
  const code = await child.exited;
  return { code, output: child.output() };
}
