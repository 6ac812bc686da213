import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../http/context.ts';
import { expectedError } from '../http/error-handler.ts';
import { describeError } from '../http/logger.ts';
import { cookieSession } from '../sign-in/browser-session.ts';
import { openPending, PENDING_COOKIE } from '../sign-in/pending.ts';
import { failureReturn, type ServiceReturn, serviceFailureOf } from '../sign-in/service-return.ts';
import { SignInError } from '../sign-in/sign-in-error.ts';
import { PAGE_ROUTES } from './sign-in.routes.ts';

/**
 * Where a sign-in started by a service returns (its attempt, or its pending sign-in, sealed when
 * /login checked the service and the address): null for the gateway's own sign-in.
 */
export function serviceReturnOf(
  sealed: { serviceId: string | null; redirectUri: string | null; serviceState: string | null },
  issuer: string | null,
): ServiceReturn | null {
  if (sealed.serviceId === null || sealed.redirectUri === null) return null;
  return { redirectUri: sealed.redirectUri, serviceState: sealed.serviceState, issuer };
}

/**
 * The service's return address for a sign-in that failed after its state was checked. A bug is
 * logged as the error handler would (the service gets `server_error`, the log the details).
 */
export function failedSignInReturn(
  c: Context<AppEnv>,
  to: ServiceReturn,
  error: unknown,
  githubError: string | undefined,
): string {
  const expected = expectedError(error);
  // The gateway's own fault (a key that opens no token, a misconfiguration): the log gets it, the
  // service the generic internal_error, never a message written for an operator.
  const ownFault = !expected || expected.kind === 'internal';
  if (ownFault) {
    c.var.log.error('request.failed', { method: c.req.method, path: c.req.path, error: describeError(error) });
  } else if (expected.code === 'database_unavailable') {
    c.var.log.warn('database.unavailable', { method: c.req.method, path: c.req.path, error: describeError(error) });
  }
  return failureReturn(to, serviceFailureOf(ownFault ? null : expected, githubError));
}

/**
 * A callback without a live attempt of this browser's: GitHub's answer replayed (Back, a reload)
 * after the attempt ended. A pending sign-in goes to its page, a person with a gateway session to
 * the landing; anything else is the error it was (sign_in_expired: start again).
 */
export async function replayedCallback(c: Context<AppEnv>, error: unknown): Promise<Response> {
  if (!(error instanceof SignInError) || error.code !== 'sign_in_expired') throw error;
  const pendingCookie = getCookie(c, PENDING_COOKIE);
  if (pendingCookie && (await openPending(pendingCookie, (await c.var.sessionKeys()).cookieOpening)))
    return c.redirect(PAGE_ROUTES.pending.path, 303);
  if (await cookieSession(c)) return c.redirect(PAGE_ROUTES.landing.path, 303);
  throw error;
}

/** The pending page's cookie is gone or too old: nothing to re-check, start again. */
export function pendingExpired(): SignInError {
  return new SignInError(
    'sign_in_expired',
    'This sign-in expired or was started in another browser. Start again from the service.',
  );
}
