import type { EngineOptions } from '../../../scripts/lib/migrations/engine.ts';
import { type MigrationConnection, withMigrationSession } from '../../../scripts/lib/migrations/session.ts';

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
