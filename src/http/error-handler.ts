import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { PAGE_CSP } from '../pages/layout.ts';
import { errorPage } from '../pages/pages.ts';
import type { AppEnv } from './context.ts';
import { ApiError, errorBody, PageError } from './errors.ts';
import { createLogger, describeError } from './logger.ts';

export const handleError: ErrorHandler<AppEnv> = (error, c) => {
  if (error instanceof PageError) {
    c.header('Content-Security-Policy', PAGE_CSP);
    c.header('Cache-Control', 'no-store');
    return c.html(errorPage(error.title, error.message, error.code), error.status);
  }
  if (error instanceof ApiError) {
    return c.json(errorBody(error.code, error.message), error.status, error.headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(errorBody(codeForStatus(error.status), error.message || 'The request was not valid.'), error.status);
  }
  // Anything else is a bug or an outage: the log gets the details, the client a generic answer.
  const log = c.get('log') ?? createLogger({ requestId: c.get('requestId') });
  log.error('request.failed', {
    method: c.req.method,
    path: c.req.path,
    error: describeError(error),
    stack: error instanceof Error && !error.message.startsWith('Failed query') ? error.stack : undefined,
  });
  return c.json(errorBody('internal_error', 'The server could not handle this request.'), 500);
};

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404);

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  return 'bad_request';
}
