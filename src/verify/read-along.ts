import type { Context } from 'hono';
import type { LookupReads } from '../db/lookup-reads.ts';
import type { AppEnv } from '../http/context.ts';
import { jsonValueOf } from '../http/json-body.ts';
import { sessionIdWorthReadingAlong } from './cached-lookups.ts';

/**
 * The cold verify's one round trip: the session a verify body names, to be read in the same query
 * as the calling service's key when that key is not in this isolate's cache. A body that cannot be
 * read or names no session reads nothing along; the route's validator answers it as before (the
 * body is read once, so it gets the same value or the same error), after the key's 401 if any.
 */
export async function sessionInVerifyBody(c: Context<AppEnv>, reads: LookupReads): Promise<string | null> {
  const body = await jsonValueOf(c).catch(() => null);
  const token = typeof body === 'object' && body !== null && 'session' in body ? body.session : null;
  if (typeof token !== 'string') return null;
  return sessionIdWorthReadingAlong(reads, token, c.get('config').VERIFY_CACHE_SECONDS);
}
