import { hashServiceKey, serviceKeyId, storedHashKind, verifyServiceKey } from '../crypto/service-keys.ts';
import type { Database } from '../db/client.ts';
import {
  findServiceByIdentifier,
  findServiceByKeyId,
  type KeySlot,
  replaceKeyHash,
  type ServiceRecord,
} from '../db/services.ts';
import { primaryReads, type StaleReads } from '../db/stale-reads.ts';

/** What a service presented: its key, and for an old-system key the identifier to look it up by. */
export interface PresentedCredentials {
  key: string | null;
  /** `X-Gateway-Service`: only keys the old system issued need it (they have no lookup id). */
  serviceIdentifier: string | null;
}

export type ServiceAuthFailure =
  | 'missing_key'
  | 'malformed_key'
  | 'unknown_key'
  | 'invalid_key'
  | 'inactive_service'
  | 'too_many_key_checks';

/**
 * Asked before a key is hashed for a service: false refuses the check. Hashing is the expensive
 * part (PBKDF2, or bcrypt for an old-system key), and anyone who knows a key id or a service id
 * could otherwise make the gateway hash wrong keys without limit.
 */
export type AdmitKeyCheck = (serviceId: string) => Promise<boolean>;

export interface AuthenticatedService {
  id: string;
  identifier: string;
  displayName: string;
  scopes: string[];
  redirectUris: string[];
}

export type ServiceAuthResult =
  | { ok: true; service: AuthenticatedService }
  | { ok: false; code: ServiceAuthFailure; serviceId: string | null };

function inGracePeriod(service: ServiceRecord, now: Date): boolean {
  return service.previousKeyExpiresAt !== null && service.previousKeyExpiresAt.getTime() > now.getTime();
}

/**
 * Decides whether the credentials belong to an active service. A current-format key costs one
 * indexed lookup and one PBKDF2; the previous key of a rotation works until its grace period
 * ends; an old-system bcrypt key is looked up by identifier and rehashed to PBKDF2 when it matches.
 */
export async function authenticateService(
  db: Database,
  credentials: PresentedCredentials,
  now: Date,
  options: {
    admitKeyCheck?: AdmitKeyCheck;
    /** Where the lookups run (a read replica may serve them); the rehash is written to `db`. */
    lookup?: StaleReads;
  } = {},
): Promise<ServiceAuthResult> {
  const admitKeyCheck = options.admitKeyCheck ?? (async () => true);
  const lookup = options.lookup ?? primaryReads(() => db);
  const { key } = credentials;
  if (!key) return { ok: false, code: 'missing_key', serviceId: null };
  const keyId = serviceKeyId(key);

  let service: ServiceRecord | null;
  let storedHash: string | null;
  let slot: KeySlot;
  if (keyId) {
    service = await lookup.read((reader) => findServiceByKeyId(reader, keyId));
    if (!service) return { ok: false, code: 'unknown_key', serviceId: null };
    slot = service.keyId === keyId ? 'current' : 'previous';
    storedHash = slot === 'current' ? service.apiKeyHash : inGracePeriod(service, now) ? service.previousKeyHash : null;
    if (storedHash === null) return { ok: false, code: 'invalid_key', serviceId: service.id };
  } else {
    if (!credentials.serviceIdentifier || key.length > 256)
      return { ok: false, code: 'malformed_key', serviceId: null };
    const identifier = credentials.serviceIdentifier;
    service = await lookup.read((reader) => findServiceByIdentifier(reader, identifier));
    if (!service) return { ok: false, code: 'unknown_key', serviceId: null };
    // Only an old-system key (no lookup id) is looked up this way: the service's current key, or,
    // after a rotation away from it, its previous key until the grace period ends.
    if (service.keyId === null) {
      slot = 'current';
      storedHash = service.apiKeyHash;
    } else if (service.previousKeyId === null && service.previousKeyHash !== null && inGracePeriod(service, now)) {
      slot = 'previous';
      storedHash = service.previousKeyHash;
    } else {
      return { ok: false, code: 'unknown_key', serviceId: null };
    }
  }

  if (!(await admitKeyCheck(service.id))) return { ok: false, code: 'too_many_key_checks', serviceId: service.id };
  if (!(await verifyServiceKey(key, storedHash))) return { ok: false, code: 'invalid_key', serviceId: service.id };
  if (!service.isActive) return { ok: false, code: 'inactive_service', serviceId: service.id };
  if (storedHashKind(storedHash) === 'bcrypt') {
    await replaceKeyHash(db, service.id, slot, storedHash, await hashServiceKey(key));
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
  };
}
