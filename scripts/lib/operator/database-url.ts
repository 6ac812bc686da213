import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { isPostgresUrl } from '../../../src/validation/postgres-url.ts';
import { readSetting } from './settings.ts';

/** DATABASE_URL is missing or not a Postgres URL: the operator's invocation to fix (exit 2). */
export class DatabaseUrlError extends GatewayError<'missing_database_url'> {
  constructor(message: string) {
    super('missing_database_url', 'input', message);
  }
}

/**
 * The database an operator command works on: DATABASE_URL from the environment, else from
 * `.dev.vars` (as wrangler reads it). Migrations prefer DIRECT_DATABASE_URL when it is set,
 * because their advisory lock needs a session that a transaction pooler would not keep.
 */
export function resolveDatabaseUrl(options: { rootDir: string; direct?: boolean; env?: NodeJS.ProcessEnv }): string {
  const direct = options.direct ? readSetting('DIRECT_DATABASE_URL', options) : undefined;
  const url = direct ?? readSetting('DATABASE_URL', options);
  if (!url) {
    throw new DatabaseUrlError(
      'DATABASE_URL is not set. Set it in the environment or in .dev.vars. For the local database, run `npm run dev` once:\n' +
        'it writes DATABASE_URL (with its generated password) into .dev.vars, and prints it.',
    );
  }
  if (!isPostgresUrl(url)) {
    throw new DatabaseUrlError(
      'DATABASE_URL is not a postgres:// URL with a host. Check its value (it is not printed here).',
    );
  }
  if (options.direct && isNeonPooler(url)) {
    throw new DatabaseUrlError(
      (direct
        ? "DIRECT_DATABASE_URL is Neon's pooled connection string (a -pooler host), not the direct one.\n"
        : "DATABASE_URL is Neon's pooled connection string (a -pooler host), and DIRECT_DATABASE_URL is not set.\n") +
        'Migrations hold a session lock (one runner at a time) that the pooler does not keep. Set DIRECT_DATABASE_URL\n' +
        'to the direct connection string (the same host without -pooler) and run this again.',
    );
  }
  return url;
}

/** Neon's pooled endpoints carry `-pooler` in the first label of the host name. */
function isNeonPooler(url: string): boolean {
  return /^[^.]+-pooler\./.test(new URL(url).hostname);
}

/** host:port/database, for messages: never the user or password. */
export function describeDatabase(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}
