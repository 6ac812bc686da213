import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { PAGE_CSP } from '../pages/layout.ts';
import { errorPage } from '../pages/pages.ts';
import type { AppEnv } from './context.ts';
import { ApiError, errorBody, PageError } from './errors.ts';
import { createLogger, describeError } from './logger.ts';
import { endpointRoute, routeKey } from './matched-route.ts';

/**
 * Errors as answers: a `PageError` as the HTML error page, an `ApiError` as its JSON, an outage as
 * 503 (a page on the browser's pages), anything else as a generic 500. `pages` are the routes a
 * person's browser visits (the route table's), by method and routing pattern.
 */
export function errorHandler(pages: readonly { method: string; path: string }[]): ErrorHandler<AppEnv> {
  const pageKeys = new Set(pages.map((page) => routeKey(page.method, page.path)));
  const isPageRequest = (c: Context) => {
    const route = endpointRoute(c);
    return route !== undefined && pageKeys.has(routeKey(route.method, route.path));
  };
  return (error, c) => handleError(error, c, isPageRequest);
}

function handleError(
  error: Error,
  c: Context<AppEnv>,
  isPageRequest: (c: Context) => boolean,
): Response | Promise<Response> {
  if (error instanceof PageError) return pageResponse(c, error);
  if (error instanceof ApiError) {
    return c.json(errorBody(error.code, error.message), error.status, error.headers);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(errorBody(codeForStatus(error.status), error.message || 'The request was not valid.'), error.status);
  }
  const log = c.get('log') ?? createLogger({ requestId: c.get('requestId') });
  if (isDatabaseUnavailable(error)) {
    // An outage, not a bug: say so, and when to come back.
    log.warn('database.unavailable', { method: c.req.method, path: c.req.path, error: describeError(error) });
    const message = 'The database cannot be reached just now. Try again shortly.';
    if (isPageRequest(c)) {
      return pageResponse(c, new PageError(503, 'database_unavailable', 'Try again in a moment', message), {
        'Retry-After': DATABASE_RETRY_AFTER_SECONDS,
      });
    }
    return c.json(errorBody('database_unavailable', message), 503, { 'Retry-After': DATABASE_RETRY_AFTER_SECONDS });
  }
  // Anything else is a bug: the log gets the details, the client a generic answer.
  log.error('request.failed', {
    method: c.req.method,
    path: c.req.path,
    error: describeError(error),
    stack: error instanceof Error && !error.message.startsWith('Failed query') ? error.stack : undefined,
  });
  return c.json(errorBody('internal_error', 'The server could not handle this request.'), 500);
}

const DATABASE_RETRY_AFTER_SECONDS = '5';

function pageResponse(
  c: Context<AppEnv>,
  error: PageError,
  headers: Record<string, string> = {},
): Response | Promise<Response> {
  c.header('Content-Security-Policy', PAGE_CSP);
  c.header('Cache-Control', 'no-store');
  return c.html(errorPage(error.title, error.message, error.code), error.status, headers);
}

export const handleNotFound: NotFoundHandler<AppEnv> = (c) =>
  c.json(errorBody('not_found', `No route for ${c.req.method} ${c.req.path}.`), 404);

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  return 'bad_request';
}
