import { TtlCache } from '../cache/ttl-cache.ts';
import {
  type SessionClaims,
  type SessionTokenCheck,
  sessionIdNamedBy,
  verifySessionToken,
} from '../crypto/session-tokens.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import type { LookupReads } from '../db/lookup-reads.ts';
import type { RowReadAlong } from '../db/services.ts';
import { findSession, type SessionWithUser } from '../db/sessions.ts';
import { type AdmittablePerson, findUserById } from '../db/users.ts';

/**
 * Session rows and people (with their admission facts), cached by id in the isolate for
 * VERIFY_CACHE_SECONDS: the bound on how late another isolate notices a revocation, an
 * un-whitelisting, a removed rule or a membership re-check's result. Answers a read replica gave are
 * cached apart from the primary's (a route that reads the primary never trusts them).
 */
const sessions = new TtlCache<SessionWithUser | null>();
const people = new TtlCache<AdmittablePerson | null>();
/**
 * Sessions revoked through this isolate, for as long as a replica may still show them live: their
 * next lookups skip the replica, so the isolate that revoked a session refuses it at once.
 */
const revokedHere = new TtlCache<true>();
const REVOKED_HERE_MS = 60_000;
/** Counts this isolate's revocations: a session read while one happened is not cached. */
let revocationsHere = 0;

const cacheKey = (viaReplica: boolean, id: string) => `${viaReplica ? 'replica' : 'primary'}:${id}`;

/**
 * A session or person read in the same query as the calling service's key (the cold verify), and
 * where it was read: only a lookup through the same reads may use it.
 */
export type ReadAlong = RowReadAlong & { reads: LookupReads };

/** The row read along, if it may stand in for this lookup (undefined: read as usual). */
function usable<Along extends ReadAlong>(readAlong: Along, reads: LookupReads, id: string): Along | undefined {
  if (readAlong.reads !== reads || readAlong.id !== id) return undefined;
  // A replica's "no such row" may only mean it is behind: that one is asked again as usual.
  return readAlong.row !== null || !reads.viaReplica ? readAlong : undefined;
}

export function cachedSession(
  reads: LookupReads,
  id: string,
  ttlSeconds: number,
  readAlong?: ReadAlong,
): Promise<SessionWithUser | null> {
  const revoked = revokedHere.get(id) !== undefined;
  const primaryOnly = reads.viaReplica && revoked;
  // A row read along was read before the key's check: a revocation through this isolate since
  // then wins over it.
  const along = !revoked && readAlong?.kind === 'session' ? usable(readAlong, reads, id) : undefined;
  const revocationsBefore = revocationsHere;
  return cached(
    sessions,
    cacheKey(reads.viaReplica, id),
    ttlSeconds,
    () => (along ? Promise.resolve(along.row) : reads.read((db) => findSession(db, id), { primaryOnly })),
    // A row read while this isolate revoked a session may show it live: it answers this call
    // (which raced the revocation) but is not kept for the next ones.
    () => revocationsHere === revocationsBefore,
  );
}

/**
 * The session id worth reading along with the service's key: the one the token names, unless
 * this isolate has it cached or has revoked it (then it is read on its own, from the primary).
 */
export function sessionIdWorthReadingAlong(reads: LookupReads, token: string, ttlSeconds: number): string | null {
  const id = sessionIdNamedBy(token);
  if (id === null) return null;
  if (revokedHere.get(id) !== undefined) return null;
  if (ttlSeconds > 0 && sessions.get(cacheKey(reads.viaReplica, id)) !== undefined) return null;
  return id;
}

export function cachedUser(
  reads: LookupReads,
  id: string,
  ttlSeconds: number,
  readAlong?: ReadAlong,
): Promise<AdmittablePerson | null> {
  const along = readAlong?.kind === 'user' ? usable(readAlong, reads, id) : undefined;
  return cached(people, cacheKey(reads.viaReplica, id), ttlSeconds, () =>
    along ? Promise.resolve(along.row) : reads.read((db) => findUserById(db, id)),
  );
}

/**
 * The person worth reading along with the service's key: the user id the body names, if it is
 * one (a UUID: anything else is the validator's 400 and must not reach SQL) and not cached here.
 */
export function userIdWorthReadingAlong(reads: LookupReads, userId: string, ttlSeconds: number): string | null {
  if (!UUID_PATTERN.test(userId)) return null;
  if (ttlSeconds > 0 && people.get(cacheKey(reads.viaReplica, userId)) !== undefined) return null;
  return userId;
}

/** A session this isolate has just revoked: forget what was cached, and ask the primary about it. */
export function forgetSession(id: string): void {
  sessions.delete(cacheKey(true, id));
  sessions.delete(cacheKey(false, id));
  revokedHere.set(id, true, REVOKED_HERE_MS);
  revocationsHere += 1;
}

async function cached<V>(
  cache: TtlCache<V | null>,
  key: string,
  ttlSeconds: number,
  load: () => Promise<V | null>,
  /** Whether what was loaded may be kept (asked once it has loaded). */
  keep: () => boolean = () => true,
): Promise<V | null> {
  // 0 means no cache at all: not even what a call under another setting left behind.
  if (ttlSeconds <= 0) return load();
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = await load();
  if (keep()) cache.set(key, value, ttlSeconds * 1000);
  return value;
}

/** Tokens whose signature checked out, so a warm verify computes no HMAC; expiry is still checked. */
const signedTokens = new TtlCache<SessionClaims>();

export function cachedTokenCheck(ttlSeconds: number) {
  return async (token: string, keys: readonly CryptoKey[], now: Date): Promise<SessionTokenCheck> => {
    const claims = ttlSeconds > 0 ? signedTokens.get(token) : undefined;
    if (claims) {
      return claims.expiresAt.getTime() > now.getTime() ? { ok: true, claims } : { ok: false, code: 'expired_session' };
    }
    const check = await verifySessionToken(token, keys, now);
    if (check.ok) signedTokens.set(token, check.claims, ttlSeconds * 1000);
    return check;
  };
}
