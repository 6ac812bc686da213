import { and, asc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { loginCodes, type NewService, type Service, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';
import { type AdmissionFacts, admissionFactColumns, membershipCheckJoin } from './membership-checks.ts';
import { eventsSummaryColumns, giveUpUndeliveredEvents } from './service-event-endpoints.ts';
import {
  type SessionWithUser,
  type SessionWithUserRow,
  sessionWithUserColumns,
  toSessionWithUser,
} from './sessions.ts';
import { type AdmittablePerson, admittablePerson, type SignedInUser, signedInColumns } from './users.ts';

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

/**
 * Every lookup but the audit log's sees only services that were not deleted: a deleted service's
 * row stays (its audit rows reference it) but it is unknown to authentication, sign-in and admin.
 */
const notDeleted = isNull(serviceRegistry.deletedAt);

/** One indexed lookup: the key id is unique among current and previous keys. */
export async function findServiceByKeyId(db: Database, keyId: string): Promise<ServiceRecord | null> {
  const [row] = await db.select(columns).from(serviceRegistry).where(byKeyId(keyId)).limit(1);
  return row ?? null;
}

/** The service whose current or previous key has this id (unique among both), unless deleted. */
const byKeyId = (keyId: string) =>
  and(or(eq(serviceRegistry.keyId, keyId), eq(serviceRegistry.previousKeyId, keyId)), notDeleted);

/**
 * A row the cold verify reads in the same query as the calling service (by key id): the session
 * or the person its body names, each by its id, a UUID (`id` is compared with a uuid column: the
 * caller has checked it, src/verify/cached-lookups.ts). `row` is null when there is none.
 */
export type RowToReadAlong = { kind: 'session' | 'user'; id: string };
export type RowReadAlong =
  | { kind: 'session'; id: string; row: SessionWithUser | null }
  | { kind: 'user'; id: string; row: AdmittablePerson | null };

type ServiceWithRow = { service: ServiceRecord; readAlong: RowReadAlong } | null;

/**
 * The service by key id and the row asked for, in one round trip; null when there is no such
 * service. (A kind added to RowToReadAlong without its case here does not compile.)
 */
export function findServiceByKeyIdWith(db: Database, keyId: string, along: RowToReadAlong): Promise<ServiceWithRow> {
  switch (along.kind) {
    case 'session':
      return findServiceByKeyIdWithSession(db, keyId, along.id);
    case 'user':
      return findServiceByKeyIdWithUser(db, keyId, along.id);
  }
}

/** `findServiceByKeyId` and `findSession` in one round trip (the cold verify by session). */
async function findServiceByKeyIdWithSession(db: Database, keyId: string, sessionId: string): Promise<ServiceWithRow> {
  const [row] = await db
    .select({ service: columns, session: sessionWithUserColumns() })
    .from(serviceRegistry)
    .leftJoin(sessions, eq(sessions.id, sessionId))
    .leftJoin(users, eq(users.id, sessions.userId))
    .leftJoin(...membershipCheckJoin)
    .where(byKeyId(keyId))
    .limit(1);
  if (!row) return null;
  // Left joins make every session column nullable: a session is there when it and its person are
  // (as findSession's inner join has it), and then every column is as that join gives it.
  const found = row.session.sessionId !== null && row.session.id !== null;
  const session = found ? toSessionWithUser(row.session as SessionWithUserRow) : null;
  return { service: row.service, readAlong: { kind: 'session', id: sessionId, row: session } };
}

/** `findServiceByKeyId` and `findUserById` in one round trip (the cold verify by user id). */
async function findServiceByKeyIdWithUser(db: Database, keyId: string, userId: string): Promise<ServiceWithRow> {
  const [row] = await db
    .select({ service: columns, user: { ...signedInColumns, ...admissionFactColumns() } })
    .from(serviceRegistry)
    .leftJoin(users, eq(users.id, userId))
    .leftJoin(...membershipCheckJoin)
    .where(byKeyId(keyId))
    .limit(1);
  if (!row) return null;
  // As above: the left join makes the person's columns nullable; a person is there when their id is.
  const user = row.user.id === null ? null : admittablePerson(row.user as SignedInUser & AdmissionFacts);
  return { service: row.service, readAlong: { kind: 'user', id: userId, row: user } };
}

export async function findServiceByIdentifier(db: Database, identifier: string): Promise<ServiceRecord | null> {
  const [row] = await db
    .select(columns)
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), notDeleted));
  return row ?? null;
}

/** A service by its id (a sign-in's sealed serviceId), unless deleted. */
export async function findServiceById(db: Database, id: string): Promise<ServiceRecord | null> {
  const [row] = await db
    .select(columns)
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.id, id), notDeleted));
  return row ?? null;
}

/**
 * Whether a service ever had this identifier, deleted or not: the audit log still names deleted
 * services, and their identifiers stay reserved.
 */
export async function findServiceIdentifierState(
  db: Queryable,
  identifier: string,
): Promise<'live' | 'deleted' | null> {
  const [row] = await db
    .select({ deletedAt: serviceRegistry.deletedAt })
    .from(serviceRegistry)
    .where(eq(serviceRegistry.serviceIdentifier, identifier));
  if (!row) return null;
  return row.deletedAt ? 'deleted' : 'live';
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

export async function insertService(db: Queryable, service: NewService): Promise<ServiceRecord> {
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
  | 'eventsUrl'
  | 'eventsFailingSince'
> & { eventsUndelivered: number };

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
  // The events endpoint of docs/api.md (URL, failing since, undelivered), in the same statement.
  ...eventsSummaryColumns,
};

/** Every service, by identifier. */
export async function listServiceSummaries(db: Database): Promise<ServiceSummaryRow[]> {
  return db
    .select(summaryColumns)
    .from(serviceRegistry)
    .where(notDeleted)
    .orderBy(asc(serviceRegistry.serviceIdentifier));
}

export async function findServiceSummaryByIdentifier(
  db: Queryable,
  identifier: string,
): Promise<ServiceSummaryRow | null> {
  const [row] = await db
    .select(summaryColumns)
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), notDeleted));
  return row ?? null;
}

/** What operators may change about a service in place (its keys change only by rotation). */
export type ServiceAccessChange = Partial<
  Pick<NewService, 'isActive' | 'allowedScopes' | 'redirectUris' | 'displayName'>
>;

/** Applies the change to the service with this identifier; null when there is none. */
export async function updateServiceByIdentifier(
  db: Queryable,
  identifier: string,
  change: ServiceAccessChange,
): Promise<ServiceSummaryRow | null> {
  const [row] = await db
    .update(serviceRegistry)
    .set(change)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), notDeleted))
    .returning(summaryColumns);
  return row ?? null;
}

/** A service's keys as a rotation reads them: the current one, and the previous one of a grace period. */
export type ServiceKeys = Pick<Service, 'id' | 'keyId' | 'apiKeyHash' | 'previousKeyHash' | 'previousKeyExpiresAt'>;

export async function findServiceKeysByIdentifier(db: Queryable, identifier: string): Promise<ServiceKeys | null> {
  const [row] = await db
    .select({
      id: serviceRegistry.id,
      keyId: serviceRegistry.keyId,
      apiKeyHash: serviceRegistry.apiKeyHash,
      previousKeyHash: serviceRegistry.previousKeyHash,
      previousKeyExpiresAt: serviceRegistry.previousKeyExpiresAt,
    })
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), notDeleted));
  return row ?? null;
}

/**
 * Writes a rotation's keys, only over the current key hash the rotation read: false when someone
 * changed it meanwhile (another rotation won), and nothing was written.
 */
export async function replaceServiceKeys(
  db: Queryable,
  serviceId: string,
  readHash: string,
  keys: Pick<NewService, 'apiKeyHash' | 'keyId' | 'previousKeyId' | 'previousKeyHash' | 'previousKeyExpiresAt'>,
): Promise<boolean> {
  const written = await db
    .update(serviceRegistry)
    .set(keys)
    .where(and(eq(serviceRegistry.id, serviceId), eq(serviceRegistry.apiKeyHash, readHash), notDeleted))
    .returning({ id: serviceRegistry.id });
  return written.length > 0;
}

/** Scopes and return addresses to add to a service's lists and take off them, one at a time. */
export interface ServiceListEdits {
  addScopes: string[];
  removeScopes: string[];
  addRedirectUris: string[];
  removeRedirectUris: string[];
}

/**
 * The list after the edits, in one SQL expression over the row's current value: kept entries in
 * their order, then the added ones, no duplicates. Being evaluated by the UPDATE itself, it works
 * on the row as the last committed change left it (Postgres re-reads it after waiting on its lock),
 * so of two edits at once neither is lost.
 */
function editedList(
  column: typeof serviceRegistry.allowedScopes | typeof serviceRegistry.redirectUris,
  add: string[],
  remove: string[],
) {
  return sql<string[]>`array(
    select entry from unnest(${column} || ${sql.param(add)}::text[]) with ordinality as edited(entry, position)
     where entry <> all(${sql.param(remove)}::text[])
     group by entry order by min(position))`;
}

/**
 * Applies the edits in one statement, writing only when a list changes. Returns the lists as they
 * were just before (to say which edits were already so) and whether anything was written; null
 * when there is no such service.
 */
export async function editServiceLists(
  db: Queryable,
  identifier: string,
  edits: ServiceListEdits,
): Promise<{ before: { allowedScopes: string[]; redirectUris: string[] }; written: boolean } | null> {
  const scopes = editedList(serviceRegistry.allowedScopes, edits.addScopes, edits.removeScopes);
  const uris = editedList(serviceRegistry.redirectUris, edits.addRedirectUris, edits.removeRedirectUris);
  // The CTE locks the row and reads it; the UPDATE then computes from the same locked row, so
  // "before" is exactly what this edit changed.
  const result = await db.execute<{ allowed_scopes: string[]; redirect_uris: string[]; written: boolean }>(sql`
    with before as (
      select ${serviceRegistry.id} as id, ${serviceRegistry.allowedScopes} as allowed_scopes,
             ${serviceRegistry.redirectUris} as redirect_uris
        from ${serviceRegistry}
       where ${serviceRegistry.serviceIdentifier} = ${identifier} and ${serviceRegistry.deletedAt} is null
         for update),
    changed as (
      update ${serviceRegistry}
         set allowed_scopes = ${scopes}, redirect_uris = ${uris}, updated_at = now()
       where id = (select id from before)
         and (allowed_scopes is distinct from ${scopes} or redirect_uris is distinct from ${uris})
      returning id)
    select before.allowed_scopes, before.redirect_uris, exists (select 1 from changed) as written from before`);
  const [row] = result.rows;
  if (!row) return null;
  return { before: { allowedScopes: row.allowed_scopes, redirectUris: row.redirect_uris }, written: row.written };
}

/**
 * Deletes a service as far as its audit rows allow: the row stays (service_audit_logs references
 * it, ON DELETE RESTRICT) marked deleted, inactive and with no key; its sessions and login codes
 * are removed, its events URL and secrets cleared and its undelivered events given up. Null when
 * there is no such (undeleted) service.
 */
export async function markServiceDeleted(
  db: Queryable,
  identifier: string,
  now: Date,
): Promise<ServiceSummaryRow | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(serviceRegistry)
      .set({
        deletedAt: now,
        isActive: false,
        // Not a hash of anything: an unknown format never matches (src/crypto/service-keys.ts).
        apiKeyHash: 'deleted',
        keyId: null,
        previousKeyId: null,
        previousKeyHash: null,
        previousKeyExpiresAt: null,
        // Its events secrets go with its keys, and nothing more is sent to it.
        eventsUrl: null,
        eventsSecret: null,
        eventsPreviousSecret: null,
        eventsPreviousSecretExpiresAt: null,
        eventsFailingSince: null,
      })
      .where(and(eq(serviceRegistry.serviceIdentifier, identifier), notDeleted))
      .returning(summaryColumns);
    if (!row) return null;
    await tx.delete(sessions).where(eq(sessions.serviceId, row.id));
    await tx.delete(loginCodes).where(eq(loginCodes.serviceId, row.id));
    await giveUpUndeliveredEvents(tx, row.id, now);
    return row;
  });
}

/**
 * A service by identifier, deleted or not, its row locked until the transaction ends: what a
 * standing-access grant checks (scope, state) stays so while it writes, and two grants for the
 * same service run one after the other (the second finds the first one's rows). Null when no
 * service ever had this identifier.
 */
export async function lockServiceForGrant(
  tx: Queryable,
  identifier: string,
): Promise<Pick<Service, 'id' | 'serviceIdentifier' | 'allowedScopes' | 'isActive' | 'deletedAt'> | null> {
  const [row] = await tx
    .select({
      id: serviceRegistry.id,
      serviceIdentifier: serviceRegistry.serviceIdentifier,
      allowedScopes: serviceRegistry.allowedScopes,
      isActive: serviceRegistry.isActive,
      deletedAt: serviceRegistry.deletedAt,
    })
    .from(serviceRegistry)
    .where(eq(serviceRegistry.serviceIdentifier, identifier))
    .for('update');
  return row ?? null;
}
