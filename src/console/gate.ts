import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { membershipBounds } from '../admission/bounds.ts';
import { decideAdmission } from '../admission/decide.ts';
import { TtlCache } from '../cache/ttl-cache.ts';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { primaryReads } from '../db/lookup-reads.ts';
import { hasOperatorGrant } from '../db/operator-grants.ts';
import type { AppEnv } from '../http/context.ts';
import { describeError } from '../http/logger.ts';
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
 * How old a console session may be (its created_at): an operator signs in again after this, even
 * when their gateway session lasts longer (ASVS 3.3.2).
 */
export const CONSOLE_SESSION_MAX_AGE_MS = 12 * 3600_000;

/**
 * Who may use the console, asked on every request: a gateway session (the landing's cookie:
 * signed, unexpired, not revoked, the gateway's own, created less than 12 hours ago), whose person
 * is admitted now by the very decision verify makes (whitelist, login rule, a membership check
 * within its bounds), and who holds the operator grant. A page view reads the session, the
 * person's admission facts and the grant from the primary through the isolate caches, so each is
 * at most VERIFY_CACHE_SECONDS old (0: none is cached); any other method (a POST, which changes
 * something) reads all three from the primary afresh, so a removed grant, admission or session
 * stops every change at once. Null for anyone else, whatever the reason, a database that cannot be
 * reached included (logged): the caller answers them as an unknown path.
 */
export async function consoleOperator(c: Context<AppEnv>): Promise<ConsoleOperator | null> {
  try {
    return await operatorOf(c, c.req.method !== 'GET' && c.req.method !== 'HEAD');
  } catch (error) {
    // Even an outage must not tell a visitor that something is here (a 503 page would).
    c.var.log.error('console.gate_failed', { method: c.req.method, path: c.req.path, error: describeError(error) });
    return null;
  }
}

async function operatorOf(c: Context<AppEnv>, fresh: boolean): Promise<ConsoleOperator | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  const check = await verifySessionToken(token, (await c.var.sessionKeys()).tokenChecking);
  if (!check.ok) return null;
  const { config } = c.var;
  // 0: read without the cache (src/verify/cached-lookups.ts).
  const ttlSeconds = fresh ? 0 : config.VERIFY_CACHE_SECONDS;
  const session = await cachedSession(primaryReads(c.var.database), check.claims.sessionId, ttlSeconds);
  if (!session || session.serviceId !== null || session.revokedAt !== null) return null;
  const now = Date.now();
  if (session.expiresAt.getTime() <= now) return null;
  if (now - session.createdAt.getTime() >= CONSOLE_SESSION_MAX_AGE_MS) return null;
  if (!decideAdmission(session.user.admission, membershipBounds(config)).admitted) return null;
  if (!(await grantOf(c, session.user.id, fresh, config.VERIFY_CACHE_SECONDS))) return null;
  return { sessionId: session.id, userId: session.user.id, login: session.user.githubLogin };
}

/**
 * Drops this isolate's cached grant of the person: a revoke from the console then takes effect
 * here at once (other isolates notice within VERIFY_CACHE_SECONDS).
 */
export function forgetOperatorGrant(userId: string): void {
  grants.delete(userId);
}

/** The grant, from this isolate's cache unless `fresh`; a fresh answer also replaces the cached one. */
async function grantOf(c: Context<AppEnv>, userId: string, fresh: boolean, ttlSeconds: number): Promise<boolean> {
  if (ttlSeconds > 0 && !fresh) {
    const hit = grants.get(userId);
    if (hit !== undefined) return hit;
  }
  const granted = await hasOperatorGrant(c.var.database(), userId);
  if (ttlSeconds > 0) grants.set(userId, granted, ttlSeconds * 1000);
  return granted;
}
