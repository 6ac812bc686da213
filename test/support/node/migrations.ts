import { type MigrateDevOptions, migrateDev } from '../../../scripts/lib/migrations/dev.ts';
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

/**
 * `gateway db migrate-dev` in process on its own connection to `url`, against `schema` instead of
 * drizzle/schema.ts: its result, or the error it refused with (the tests check both).
 */
export async function runMigrateDev(
  url: string,
  options: Omit<MigrateDevOptions, 'connection' | 'log'> & { log?: (line: string) => void },
): Promise<{ result: Awaited<ReturnType<typeof migrateDev>> | null; error: (Error & { code?: string }) | null }> {
  return withMigrationSession(url, (connection) => migrateDev({ log: () => {}, ...options, connection })).then(
    (result) => ({ result, error: null }),
    (caught: unknown) => ({ result: null, error: caught as Error & { code?: string } }),
  );
}
