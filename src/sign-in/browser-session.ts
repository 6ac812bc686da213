import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { findSession, type SessionWithUser } from '../db/sessions.ts';
import type { AppEnv } from '../http/context.ts';
import { GATEWAY_COOKIE } from './cookie-options.ts';

/** The gateway's own sign-in (no service): a signed session token in an HttpOnly cookie. */
export const SESSION_COOKIE = '__Host-gw_session';

export function setSessionCookie(c: Context<AppEnv>, token: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, token, { ...GATEWAY_COOKIE, maxAge: maxAgeSeconds });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, GATEWAY_COOKIE);
}

/**
 * The gateway session the browser's cookie names: signed, unexpired, the gateway's own (not a
 * service's), not revoked. Whether its person is still allowed in is not asked: signing out acts
 * on it whatever the whitelist says, so "un-whitelist, sign out everywhere" ends everything.
 */
export async function cookieSession(c: Context<AppEnv>): Promise<SessionWithUser | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const check = await verifySessionToken(token, (await c.var.sessionKeys()).tokenChecking);
  if (!check.ok) return null;
  const session = await findSession(c.var.database(), check.claims.sessionId);
  if (!session || session.revokedAt !== null || session.serviceId !== null) return null;
  return session;
}
