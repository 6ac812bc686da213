import { connect } from 'node:net';
import { isDatabaseUnavailable } from '../../../src/db/unavailable.ts';
import { type ErrorKind, GatewayError } from '../../../src/errors/gateway-error.ts';
import { escapeControl } from '../../../src/validation/control-characters.ts';
import { describeDatabase } from './database-url.ts';

/**
 * Why an operator command could not use its database, in words the operator can act on. Every
 * command that opens DATABASE_URL (the migration commands too) explains a failure through here,
 * so one cause reads the same everywhere. Drizzle wraps the driver's error in "Failed query:
 * <sql> params: <values>", which would print the query and its values (a login, a key id): the
 * messages below are built from the SQLSTATE and the URL's host, port and database, never from
 * the password or the query's parameters.
 */
export type DatabaseCause = 'unreachable' | 'wrong_password' | 'missing_database' | 'unmigrated' | 'behind';

const KIND_OF_CAUSE: Record<DatabaseCause, ErrorKind> = {
  unreachable: 'unavailable',
  wrong_password: 'unauthorized',
  missing_database: 'not_found',
  unmigrated: 'conflict',
  behind: 'conflict',
};

/** The command that brings a database up to this checkout's schema, as the hints name it. */
export const MIGRATE_COMMAND = '`npx gateway db migrate`';

export class DatabaseCauseError extends GatewayError<DatabaseCause> {
  constructor(cause: DatabaseCause, message: string, original?: unknown) {
    super(cause, KIND_OF_CAUSE[cause], message, { cause: original });
  }
}

/** The database at `url` cannot be reached (stopped, wrong host or port, a firewall). */
export function unreachableDatabase(url: string, reason: string, original?: unknown): DatabaseCauseError {
  return new DatabaseCauseError(
    'unreachable',
    `Cannot reach the database at ${describeDatabase(url)} (${reason || 'connection failed'}). ` +
      'Is it running and is DATABASE_URL right? For the local database, start it with `npm run dev`.',
    original,
  );
}

/**
 * The cause of `error` when it is one of the known ways a database is wrong for this gateway
 * (walking drizzle's and the driver's `cause` chain), else undefined: the error is something else.
 */
export async function explainDatabaseFailure(error: unknown, url: string): Promise<DatabaseCauseError | undefined> {
  if (error instanceof GatewayError) return undefined;
  const where = describeDatabase(url);
  const parsed = new URL(url);
  for (const link of causeChain(error)) {
    const message = typeof link.message === 'string' ? escapeControl(link.message) : '';
    switch (link.code) {
      case '28P01':
        return new DatabaseCauseError(
          'wrong_password',
          `The database at ${where} refused the password for user "${escapeControl(decodeURIComponent(parsed.username))}" (28P01). ` +
            'Check the password in DATABASE_URL (it is not printed here); for the local database, `npm run dev` writes the right one into .dev.vars.',
          error,
        );
      case '28000':
        return new DatabaseCauseError(
          'wrong_password',
          `The database at ${where} refused this user or client (28000: ${message}). Check the user in DATABASE_URL and the server's access rules.`,
          error,
        );
      case '3D000':
        return new DatabaseCauseError(
          'missing_database',
          `There is no database "${escapeControl(decodeURIComponent(parsed.pathname.slice(1)))}" at ${parsed.hostname}:${parsed.port || '5432'} (3D000). ` +
            `Check the database name in DATABASE_URL, or create it and run ${MIGRATE_COMMAND}.`,
          error,
        );
      case '42P01':
        return new DatabaseCauseError(
          'unmigrated',
          `The database at ${where} has no gateway tables: run ${MIGRATE_COMMAND} (Postgres: ${message}).`,
          error,
        );
      case '42703':
        return new DatabaseCauseError(
          'behind',
          `The database at ${where} is behind this checkout's migrations: run ${MIGRATE_COMMAND} (Postgres: ${message}).`,
          error,
        );
    }
  }
  if (isDatabaseUnavailable(error)) return unreachableDatabase(url, await probeReason(url), error);
  return undefined;
}

/**
 * The message an unexplained error prints: drizzle's "Failed query: <sql> params: <values>" is
 * replaced by what the driver said, so query parameters never reach the terminal.
 */
export function withoutQuery(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.startsWith('Failed query:')) return message;
  const driver = causeChain(error).find((link) => link !== error && typeof link.message === 'string');
  return `a database query failed: ${driver?.message ?? 'no reason given'}`;
}

interface ChainLink {
  code?: unknown;
  message?: unknown;
}

function causeChain(error: unknown): ChainLink[] {
  const links: ChainLink[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    links.push(current as ChainLink);
    current = (current as { cause?: unknown }).cause;
  }
  return links;
}

/**
 * Why the server's port does not answer. Non-Neon databases are reached through a WebSocket
 * bridge inside this process, which can only close the socket: the driver then says "Connection
 * terminated unexpectedly" whatever happened. One TCP connect of our own names the real reason.
 */
async function probeReason(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port || 5432) });
    const done = (reason: string) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(5_000, () => done('no answer within 5 seconds'));
    socket.once('connect', () => done('the server closed the connection'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done('connection refused');
      else if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') done(`no host called ${host}`);
      else if (error.code === 'ETIMEDOUT') done('the connection timed out');
      else done(error.code ?? 'connection failed');
    });
  });
}
