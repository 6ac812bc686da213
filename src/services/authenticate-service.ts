import {
  hashServiceKey,
  iterationsFor,
  needsRehash,
  serviceKeyId,
  standInHashFor,
  verifyServiceKey,
} from '../crypto/service-keys.ts';
import type { Database } from '../db/client.ts';
import { type LookupReads, primaryReads } from '../db/lookup-reads.ts';
import {
  findServiceByIdentifier,
  findServiceByKeyId,
  findServiceByKeyIdWith,
  type KeySlot,
  type RowReadAlong,
  type RowToReadAlong,
  replaceKeyHash,
  type ServiceRecord,
} from '../db/services.ts';

/** What a service presented: its key, and for an old-system key the identifier to look it up by. */
export interface PresentedCredentials {
  key: string | null;
  /** `X-Gateway-Service`: only keys the old system issued need it (they have no lookup id). */
  serviceIdentifier: string | null;
}

export type ServiceAuthFailure = 'missing_key' | 'malformed_key' | 'unknown_key' | 'invalid_key' | 'inactive_service';

export interface AuthenticatedService {
  id: string;
  identifier: string;
  displayName: string;
  scopes: string[];
  redirectUris: string[];
}

export type ServiceAuthResult =
  | {
      ok: true;
      service: AuthenticatedService;
      /** With the `readAlong` option and a `gwk_` key: the row asked for, as the key's lookup read it. */
      readAlong?: RowReadAlong;
    }
  | { ok: false; code: ServiceAuthFailure; serviceId: string | null };

function inGracePeriod(service: ServiceRecord, now: Date): boolean {
  return service.previousKeyExpiresAt !== null && service.previousKeyExpiresAt.getTime() > now.getTime();
}

/**
 * Decides whether the credentials belong to an active service. A current-format key costs one
 * indexed lookup and one PBKDF2; the previous key of a rotation works until its grace period
 * ends; an old-system bcrypt key is looked up by identifier and rehashed to PBKDF2 when it matches
 * (as is a PBKDF2 hash with another iteration count than today's).
 * Every well-formed key costs one hash, found or not (a stand-in of its kind's iterations when
 * nothing was found), so the time does not tell which services use old-system keys, nor which key
 * ids exist (but for a `gwk_` key still hashed at 10,000 iterations, until its first use). What bounds that
 * work is the caller's per-address budget, drawn before this is called (src/http/client-budget.ts).
 */
export async function authenticateService(
  db: Database,
  credentials: PresentedCredentials,
  now: Date,
  options: {
    /** Where the lookups run (a read replica may serve them); the rehash is written to `db`. */
    lookup?: LookupReads;
    /**
     * Runs the rehash after the answer instead of before it (the request's background work): a
     * key that matched is not refused because the primary could not take its new hash.
     */
    background?: (work: Promise<unknown>) => void;
    /**
     * A session or person to read in the same query as a `gwk_` key's service (the cold verify's
     * one round trip); an old-system key's lookup by identifier reads nothing along.
     */
    readAlong?: RowToReadAlong | null;
  } = {},
): Promise<ServiceAuthResult> {
  const lookup = options.lookup ?? primaryReads(() => db);
  const { key } = credentials;
  if (!key) return { ok: false, code: 'missing_key', serviceId: null };
  const keyId = serviceKeyId(key);

  // The service the key belongs to, and the stored hash to compare it with (null: none to match).
  let service: ServiceRecord | null;
  let storedHash: string | null = null;
  let slot: KeySlot = 'current';
  let readAlong: RowReadAlong | undefined;
  if (keyId) {
    const along = options.readAlong;
    if (along) {
      const found = await lookup.read((reader) => findServiceByKeyIdWith(reader, keyId, along));
      service = found?.service ?? null;
      readAlong = found?.readAlong;
    } else {
      service = await lookup.read((reader) => findServiceByKeyId(reader, keyId));
    }
    if (service) {
      slot = service.keyId === keyId ? 'current' : 'previous';
      storedHash =
        slot === 'current' ? service.apiKeyHash : inGracePeriod(service, now) ? service.previousKeyHash : null;
    }
  } else {
    if (!credentials.serviceIdentifier || key.length > 256)
      return { ok: false, code: 'malformed_key', serviceId: null };
    const identifier = credentials.serviceIdentifier;
    const found = await lookup.read((reader) => findServiceByIdentifier(reader, identifier));
    // Only an old-system key (no lookup id) is looked up this way: the service's current key, or,
    // after a rotation away from it, its previous key until the grace period ends. Any other
    // service answers as if there were none.
    if (found && found.keyId === null) {
      storedHash = found.apiKeyHash;
    } else if (found && found.previousKeyId === null && found.previousKeyHash !== null && inGracePeriod(found, now)) {
      slot = 'previous';
      storedHash = found.previousKeyHash;
    }
    service = storedHash === null ? null : found;
  }

  const matches = await verifyServiceKey(key, storedHash ?? standInHashFor(key));
  if (!service) return { ok: false, code: 'unknown_key', serviceId: null };
  if (storedHash === null || !matches) return { ok: false, code: 'invalid_key', serviceId: service.id };
  if (!service.isActive) return { ok: false, code: 'inactive_service', serviceId: service.id };
  if (needsRehash(storedHash, key)) {
    const rehash = hashServiceKey(key, iterationsFor(key)).then((hash) =>
      replaceKeyHash(db, service.id, slot, storedHash, hash),
    );
    if (options.background) options.background(rehash);
    else await rehash;
  }
  return {
    ok: true,
    service: {
      id: service.id,
      identifier: service.serviceIdentifier,
      displayName: service.displayName,
      scopes: service.allowedScopes,
      redirectUris: service.redirectUris,
    },
    ...(readAlong ? { readAlong } : {}),
  };
}
