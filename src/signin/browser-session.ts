import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { findSession, type SessionWithUser } from '../db/sessions.ts';
import type { AppEnv } from '../http/context.ts';

/** The gateway's own sign-in (no service): a signed session token in an HttpOnly cookie. */
export const SESSION_COOKIE = '__Host-gw_session';

export function setSessionCookie(c: Context<AppEnv>, token: string, maxAgeSeconds: number): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
}

/** The live session of the browser's cookie: signed, unexpired, not revoked, its person still whitelisted. */
export async function browserSession(c: Context<AppEnv>): Promise<SessionWithUser | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const check = await verifySessionToken(token, (await c.var.sessionKeys()).tokenChecking);
  if (!check.ok) return null;
  const session = await findSession(c.var.database(), check.claims.sessionId);
  if (!session || session.revokedAt !== null || session.serviceId !== null || !session.user.isWhitelisted) return null;
  return session;
}
