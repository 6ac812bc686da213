import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { membershipBounds } from '../admission/bounds.ts';
import { decideAdmission } from '../admission/decide.ts';
import { TtlCache } from '../cache/ttl-cache.ts';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { primaryReads } from '../db/lookup-reads.ts';
import { hasOperatorGrant } from '../db/operator-grants.ts';
import type { AppEnv } from '../http/context.ts';
import { SESSION_COOKIE } from '../sign-in/browser-session.ts';
import { cachedSession } from '../verify/cached-lookups.ts';

/** The operator a console request is for. */
export interface ConsoleOperator {
  /** Their gateway session's id: what the CSRF token is bound to. */
  sessionId: string;
  userId: string;
  login: string | null;
}

/**
 * Grants cached by person for VERIFY_CACHE_SECONDS, like verify's sessions and people: the bound
 * on how late a removed grant is noticed by an isolate that has just seen it.
 */
const grants = new TtlCache<boolean>();

/**
 * Who may use the console, asked on every request: a gateway session (the landing's cookie:
 * signed, unexpired, not revoked, the gateway's own), whose person is admitted now by the very
 * decision verify makes (whitelist, login rule, a membership check within its bounds), and who
 * holds the operator grant. The session, the person's admission facts and the grant are read from
 * the primary through the isolate caches, so each is at most VERIFY_CACHE_SECONDS old (0: none
 * is cached). Null for anyone else, whatever the reason: the caller answers them as an unknown path.
 */
export async function consoleOperator(c: Context<AppEnv>): Promise<ConsoleOperator | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const check = await verifySessionToken(token, (await c.var.sessionKeys()).tokenChecking);
  if (!check.ok) return null;
  const { config } = c.var;
  const ttlSeconds = config.VERIFY_CACHE_SECONDS;
  const session = await cachedSession(primaryReads(c.var.database), check.claims.sessionId, ttlSeconds);
  if (!session || session.serviceId !== null || session.revokedAt !== null) return null;
  if (session.expiresAt.getTime() <= Date.now()) return null;
  if (!decideAdmission(session.user.admission, membershipBounds(config)).admitted) return null;
  if (!(await cachedGrant(c, session.user.id, ttlSeconds))) return null;
  return { sessionId: session.id, userId: session.user.id, login: session.user.githubLogin };
}

/**
 * Drops this isolate's cached grant of the person: a revoke from the console then takes effect
 * here at once (other isolates notice within VERIFY_CACHE_SECONDS).
 */
export function forgetOperatorGrant(userId: string): void {
  grants.delete(userId);
}

async function cachedGrant(c: Context<AppEnv>, userId: string, ttlSeconds: number): Promise<boolean> {
  if (ttlSeconds > 0) {
    const hit = grants.get(userId);
    if (hit !== undefined) return hit;
  }
  const granted = await hasOperatorGrant(c.var.database(), userId);
  if (ttlSeconds > 0) grants.set(userId, granted, ttlSeconds * 1000);
  return granted;
}
