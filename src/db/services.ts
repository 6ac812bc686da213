import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { type NewService, type Service, serviceRegistry } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';

/** A service as authentication and sign-in need it. */
export type ServiceRecord = Pick<
  Service,
  | 'id'
  | 'serviceIdentifier'
  | 'displayName'
  | 'apiKeyHash'
  | 'keyId'
  | 'previousKeyId'
  | 'previousKeyHash'
  | 'previousKeyExpiresAt'
  | 'allowedScopes'
  | 'isActive'
  | 'redirectUris'
>;

const columns = {
  id: serviceRegistry.id,
  serviceIdentifier: serviceRegistry.serviceIdentifier,
  displayName: serviceRegistry.displayName,
  apiKeyHash: serviceRegistry.apiKeyHash,
  keyId: serviceRegistry.keyId,
  previousKeyId: serviceRegistry.previousKeyId,
  previousKeyHash: serviceRegistry.previousKeyHash,
  previousKeyExpiresAt: serviceRegistry.previousKeyExpiresAt,
  allowedScopes: serviceRegistry.allowedScopes,
  isActive: serviceRegistry.isActive,
  redirectUris: serviceRegistry.redirectUris,
};

/** One indexed lookup: the key id is unique among current and previous keys. */
export async function findServiceByKeyId(db: Database, keyId: string): Promise<ServiceRecord | null> {
  const [row] = await db
    .select(columns)
    .from(serviceRegistry)
    .where(or(eq(serviceRegistry.keyId, keyId), eq(serviceRegistry.previousKeyId, keyId)))
    .limit(1);
  return row ?? null;
}

export async function findServiceByIdentifier(db: Database, identifier: string): Promise<ServiceRecord | null> {
  const [row] = await db.select(columns).from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, identifier));
  return row ?? null;
}

/** Which of a service's two keys: the current one, or the previous one of a rotation's grace period. */
export type KeySlot = 'current' | 'previous';

/** Replaces a key's stored hash (a bcrypt hash by its PBKDF2 rehash), unless someone changed it meanwhile. */
export async function replaceKeyHash(
  db: Database,
  serviceId: string,
  slot: KeySlot,
  oldHash: string,
  newHash: string,
): Promise<void> {
  const column = slot === 'current' ? serviceRegistry.apiKeyHash : serviceRegistry.previousKeyHash;
  await db
    .update(serviceRegistry)
    .set(slot === 'current' ? { apiKeyHash: newHash } : { previousKeyHash: newHash })
    .where(and(eq(serviceRegistry.id, serviceId), eq(column, oldHash)));
}

export async function insertService(db: Database, service: NewService): Promise<ServiceRecord> {
  const [row] = await db.insert(serviceRegistry).values(service).returning(columns);
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** Sets last_used_at unless another isolate did so within the last minute. */
export async function touchServiceLastUsed(db: Database, serviceId: string, now: Date): Promise<void> {
  await db
    .update(serviceRegistry)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(serviceRegistry.id, serviceId),
        or(isNull(serviceRegistry.lastUsedAt), lt(serviceRegistry.lastUsedAt, new Date(now.getTime() - 60_000))),
      ),
    );
}
