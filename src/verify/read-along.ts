import type { Context } from 'hono';
import type { LookupReads } from '../db/lookup-reads.ts';
import type { RowToReadAlong } from '../db/services.ts';
import type { AppEnv } from '../http/context.ts';
import { jsonValueOf } from '../http/json-body.ts';
import { sessionIdWorthReadingAlong, userIdWorthReadingAlong } from './cached-lookups.ts';

/**
 * The cold verify's one round trip: the session (or, without one, the person) a verify body
 * names, to be read in the same query as the calling service's key when that key is not in this
 * isolate's cache. A body that cannot be read or names neither reads nothing along; the route's
 * validator answers it as before (the body is read once, so it gets the same value or the same
 * error), after the key's 401 if any.
 */
export async function rowInVerifyBody(c: Context<AppEnv>, reads: LookupReads): Promise<RowToReadAlong | null> {
  const body = await jsonValueOf(c).catch(() => null);
  if (typeof body !== 'object' || body === null) return null;
  const ttl = c.get('config').VERIFY_CACHE_SECONDS;
  if ('session' in body) {
    const id = typeof body.session === 'string' ? sessionIdWorthReadingAlong(reads, body.session, ttl) : null;
    return id === null ? null : { kind: 'session', id };
  }
  if ('user_id' in body && typeof body.user_id === 'string') {
    const id = userIdWorthReadingAlong(reads, body.user_id, ttl);
    return id === null ? null : { kind: 'user', id };
  }
  return null;
}
