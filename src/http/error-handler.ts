import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from './context.ts';
import { errorBody } from './error-body.ts';
import { STATUS_OF_KIND } from './error-status.ts';
import { createLogger, describeError } from './logger.ts';

const DATABASE_RETRY_AFTER_SECONDS = '5';

/**
 * The failure an error stands for, when it is an expected one: a `GatewayError` as it is, a lost
 * database connection as `database_unavailable` (an outage, not a bug: say so, and when to come
 * back). Null for anything else, which is a bug.
 */
export function expectedError(error: unknown): GatewayError | null {
  if (error instanceof GatewayError) return error;
  if (isDatabaseUnavailable(error)) {
    return new GatewayError(
      'database_unavailable',
      'unavailable',
      'The database cannot be reached just now. Try again shortly.',
      { cause: error, headers: { 'Retry-After': DATABASE_RETRY_AFTER_SECONDS } },
    );
  }
  return null;
}

/** The HTTP status of an expected failure: by its kind, one mapping for the whole gateway. */
export function statusOf(error: GatewayError) {
  return STATUS_OF_KIND[error.kind];
}

/**
 * Errors as JSON answers: an expected failure as `{ error: { code, message } }` with the status of
 * its kind, anything else as a generic 500 (the log gets the details). The pages answer their own
 * errors as HTML (src/routes/page-errors.ts).
 */
export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  const expected = expectedError(error);
  if (expected) {
    noteOutage(c, error);
    return c.json(errorBody(expected.code, expected.message), statusOf(expected), { ...expected.headers });
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(errorBody(codeForStatus(error.status), error.message || 'The request was not valid.'), error.status);
  }
  return answerBug(error, c);
};

/** A lost database connection is logged as a warning; expected failures need no log line here. */
export function noteOutage(c: Context<AppEnv>, error: Error): void {
  if (error instanceof GatewayError || !isDatabaseUnavailable(error)) return;
  logOf(c).warn('database.unavailable', { method: c.req.method, path: c.req.path, error: describeError(error) });
}

/** A bug: the log gets the details, the client a generic answer. */
export function answerBug(error: Error, c: Context<AppEnv>): Response | Promise<Response> {
  logOf(c).error('request.failed', {
    method: c.req.method,
    path: c.req.path,
    error: describeError(error),
    stack: error instanceof Error && !error.message.startsWith('Failed query') ? error.stack : undefined,
  });
  return c.json(errorBody('internal_error', 'The server could not handle this request.'), 500);
}

function logOf(c: Context<AppEnv>) {
  return c.get('log') ?? createLogger({ requestId: c.get('requestId') });
}

/** No such route: the JSON error (the pages answer browsers with their own 404 page: src/app.ts). */
export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404);

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  return 'bad_request';
}
