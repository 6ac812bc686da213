import type { ErrorHandler } from 'hono';
import type { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from '../http/context.ts';
import { expectedError, handleError, noteOutage, statusOf } from '../http/error-handler.ts';
import { FormError } from '../http/form-body.ts';
import { describeError } from '../http/logger.ts';
import { brandingOf } from '../pages/branding.ts';
import { errorPage } from '../pages/pages.ts';

/**
 * The error answers of the pages a person's browser visits: every expected failure (a refused
 * sign-in, a form not accepted, a database outage) as the HTML error page, with the status of its
 * kind and its headers (Retry-After). Anything else is answered as anywhere (a bug: the generic
 * JSON 500). The security headers give
 * the page its CSP (src/http/security-headers.ts).
 */
export const pageErrorHandler: ErrorHandler<AppEnv> = (error, c) => {
  const expected = expectedError(error);
  if (!expected) return handleError(error, c);
  if (expected.kind === 'internal' && expected.code !== 'configuration_error') {
    // The gateway's own fault: its message is for the operator (the log), not the person.
    // (configuration_error's is written for the person: it says nothing is wrong with them.)
    c.var.log.error('request.failed', { method: c.req.method, path: c.req.path, error: describeError(error) });
    return c.html(errorPage(brandingOf(c.var.config), 'Sign-in did not work', INTERNAL_MESSAGE, 'internal_error'), 500);
  }
  noteOutage(c, error);
  return c.html(
    errorPage(brandingOf(c.var.config), pageTitle(expected), expected.message, expected.code),
    statusOf(expected),
    {
      ...expected.headers,
    },
  );
};

const INTERNAL_MESSAGE = 'The gateway could not finish this. Try again later; if it goes on, tell its operator.';

function pageTitle(error: GatewayError): string {
  if (error instanceof FormError) return 'Form not accepted';
  if (error.kind === 'unavailable') return 'Try again in a moment';
  if (error.code === 'cross_site') return 'Not signed out';
  if (error.code === 'configuration_error') return 'Sign-in is not available';
  return 'Sign-in did not work';
}
