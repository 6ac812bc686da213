/**
 * Names of the throwaway databases a test run creates. Every name starts with the run's prefix, so
 * a run against a shared server (TEST_DATABASE_URL) cleans up exactly what it made.
 */
export function runPrefix(runId: string): string {
  return `gw_test_${runId}`;
}

export function templateDatabaseName(runId: string): string {
  return `${runPrefix(runId)}_template`;
}

export function fileDatabaseName(runId: string): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const suffix = Array.from(random, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${runPrefix(runId)}_${suffix}`;
}

/** Replaces the database name in a postgres:// URL. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
