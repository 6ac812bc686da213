import { and, asc, eq, isNull, lt, or } from 'drizzle-orm';
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

/** What operators see of a service: never a key hash (a null `keyId` is an old-system key). */
export type ServiceSummaryRow = Pick<
  Service,
  | 'id'
  | 'serviceIdentifier'
  | 'displayName'
  | 'allowedScopes'
  | 'redirectUris'
  | 'isActive'
  | 'lastUsedAt'
  | 'previousKeyExpiresAt'
  | 'keyId'
  | 'createdAt'
>;

const summaryColumns = {
  id: serviceRegistry.id,
  serviceIdentifier: serviceRegistry.serviceIdentifier,
  displayName: serviceRegistry.displayName,
  allowedScopes: serviceRegistry.allowedScopes,
  redirectUris: serviceRegistry.redirectUris,
  isActive: serviceRegistry.isActive,
  lastUsedAt: serviceRegistry.lastUsedAt,
  previousKeyExpiresAt: serviceRegistry.previousKeyExpiresAt,
  keyId: serviceRegistry.keyId,
  createdAt: serviceRegistry.createdAt,
};

/** Every service, by identifier. */
export async function listServiceSummaries(db: Database): Promise<ServiceSummaryRow[]> {
  return db.select(summaryColumns).from(serviceRegistry).orderBy(asc(serviceRegistry.serviceIdentifier));
}

/** What operators may change about a service in place (its keys change only by rotation). */
export type ServiceAccessChange = Partial<Pick<NewService, 'isActive' | 'allowedScopes' | 'redirectUris'>>;

/** Applies the change to the service with this identifier; null when there is none. */
export async function updateServiceByIdentifier(
  db: Database,
  identifier: string,
  change: ServiceAccessChange,
): Promise<ServiceSummaryRow | null> {
  const [row] = await db
    .update(serviceRegistry)
    .set(change)
    .where(eq(serviceRegistry.serviceIdentifier, identifier))
    .returning(summaryColumns);
  return row ?? null;
}

/** A service's keys as a rotation reads them: the current one, and the previous one of a grace period. */
export type ServiceKeys = Pick<Service, 'id' | 'keyId' | 'apiKeyHash' | 'previousKeyHash' | 'previousKeyExpiresAt'>;

export async function findServiceKeysByIdentifier(db: Database, identifier: string): Promise<ServiceKeys | null> {
  const [row] = await db
    .select({
      id: serviceRegistry.id,
      keyId: serviceRegistry.keyId,
      apiKeyHash: serviceRegistry.apiKeyHash,
      previousKeyHash: serviceRegistry.previousKeyHash,
      previousKeyExpiresAt: serviceRegistry.previousKeyExpiresAt,
    })
    .from(serviceRegistry)
    .where(eq(serviceRegistry.serviceIdentifier, identifier));
  return row ?? null;
}

/**
 * Writes a rotation's keys, only over the current key hash the rotation read: false when someone
 * changed it meanwhile (another rotation won), and nothing was written.
 */
export async function replaceServiceKeys(
  db: Database,
  serviceId: string,
  readHash: string,
  keys: Pick<NewService, 'apiKeyHash' | 'keyId' | 'previousKeyId' | 'previousKeyHash' | 'previousKeyExpiresAt'>,
): Promise<boolean> {
  const written = await db
    .update(serviceRegistry)
    .set(keys)
    .where(and(eq(serviceRegistry.id, serviceId), eq(serviceRegistry.apiKeyHash, readHash)))
    .returning({ id: serviceRegistry.id });
  return written.length > 0;
}
