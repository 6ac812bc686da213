import { and, desc, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { changeRecords, type NewChangeRecord, serviceAuditLogs, serviceRegistry, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';

export type NewChangeRecordRow = NewChangeRecord & { id: string; createdAt: Date };

/** Postgres text cannot hold NUL; a user agent may carry one. Address and agent cut as the access rows'. */
function storable(text: string | null | undefined, max: number): string | null {
  return text == null ? null : text.slice(0, max).replaceAll('\u0000', '\uFFFD');
}

/** One change record, in the caller's transaction (the change's own). */
export async function insertChangeRecord(db: Queryable, row: NewChangeRecordRow): Promise<void> {
  await db.insert(changeRecords).values({
    ...row,
    ipAddress: storable(row.ipAddress, 64),
    userAgent: storable(row.userAgent, 512),
    actorName: storable(row.actorName, 200),
    host: storable(row.host, 255),
  });
}

export type AuditRowKind = 'access' | 'change' | 'sign-in';

export interface AuditRowFilter {
  /** Only these kinds; every kind when absent. */
  kinds?: readonly AuditRowKind[];
  /** Access rows of this calling service; change rows naming it as actor or subject. */
  serviceIdentifier?: string;
  /** Access rows about this person; change rows naming them as actor or subject. */
  userId?: string;
  action?: string;
  success?: boolean;
  since?: Date;
  until?: Date;
  /** Only rows older than this one, in (created_at, id) order over both tables: where the last page ended. */
  olderThan?: { createdAt: Date; id: string };
}

/** A row of either table, in one shape: the access rows' columns, then who acted and from where. */
export interface AuditRow {
  id: string;
  createdAt: Date;
  kind: AuditRowKind;
  /** Access: the calling service; change: the service concerned. */
  serviceIdentifier: string | null;
  userId: string | null;
  userLogin: string | null;
  action: string;
  success: boolean;
  code: string | null;
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  actorKind: string | null;
  actorName: string | null;
  actorServiceIdentifier: string | null;
  actorUserId: string | null;
  actorLogin: string | null;
  host: string | null;
  details: Record<string, unknown> | null;
}

const subjectService = alias(serviceRegistry, 'subject_service');
const actorService = alias(serviceRegistry, 'actor_service');
const subjectUser = alias(users, 'subject_user');
const actorUser = alias(users, 'actor_user');

const nullText = (name: string) => sql<string | null>`null::text`.as(name);

function accessRows(db: Database, filter: AuditRowFilter, limit: number) {
  const t = serviceAuditLogs;
  const conditions = common(filter, t);
  if (filter.serviceIdentifier) conditions.push(eq(serviceRegistry.serviceIdentifier, filter.serviceIdentifier));
  if (filter.userId) conditions.push(eq(t.userId, filter.userId));
  return db
    .select({
      id: t.id,
      createdAt: t.createdAt,
      kind: sql<AuditRowKind>`'access'::text`.as('kind'),
      serviceIdentifier: sql<string | null>`${serviceRegistry.serviceIdentifier}`.as('service_identifier'),
      userId: t.userId,
      userLogin: sql<string | null>`${users.githubLogin}`.as('user_login'),
      action: t.action,
      success: t.success,
      code: sql<string | null>`${t.metadata}->>'code'`.as('code'),
      requestId: sql<string | null>`${t.metadata}->>'requestId'`.as('request_id'),
      ipAddress: t.ipAddress,
      userAgent: t.userAgent,
      actorKind: nullText('actor_kind'),
      actorName: nullText('actor_name'),
      actorServiceIdentifier: nullText('actor_service_identifier'),
      actorUserId: sql<string | null>`null::uuid`.as('actor_user_id'),
      actorLogin: nullText('actor_login'),
      host: nullText('host'),
      details: sql<Record<string, unknown> | null>`null::jsonb`.as('details'),
    })
    .from(t)
    .leftJoin(serviceRegistry, eq(serviceRegistry.id, t.serviceId))
    .leftJoin(users, eq(users.id, t.userId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(limit);
}

function changeRows(db: Database, filter: AuditRowFilter, kinds: readonly ('change' | 'sign-in')[], limit: number) {
  const t = changeRecords;
  const conditions = common(filter, t);
  conditions.push(inArray(t.kind, [...kinds]));
  if (filter.serviceIdentifier)
    conditions.push(
      or(
        eq(subjectService.serviceIdentifier, filter.serviceIdentifier),
        eq(actorService.serviceIdentifier, filter.serviceIdentifier),
      ) as SQL,
    );
  if (filter.userId) conditions.push(or(eq(t.subjectUserId, filter.userId), eq(t.actorUserId, filter.userId)) as SQL);
  return db
    .select({
      id: t.id,
      createdAt: t.createdAt,
      kind: sql<AuditRowKind>`${t.kind}`.as('kind'),
      serviceIdentifier: sql<string | null>`${subjectService.serviceIdentifier}`.as('service_identifier'),
      userId: t.subjectUserId,
      userLogin: sql<string | null>`${subjectUser.githubLogin}`.as('user_login'),
      action: t.action,
      success: t.success,
      code: sql<string | null>`${t.code}`.as('code'),
      requestId: sql<string | null>`${t.requestId}`.as('request_id'),
      ipAddress: t.ipAddress,
      userAgent: t.userAgent,
      actorKind: sql<string | null>`${t.actorKind}`.as('actor_kind'),
      actorName: sql<string | null>`${t.actorName}`.as('actor_name'),
      actorServiceIdentifier: sql<string | null>`${actorService.serviceIdentifier}`.as('actor_service_identifier'),
      actorUserId: sql<string | null>`${t.actorUserId}`.as('actor_user_id'),
      actorLogin: sql<string | null>`${actorUser.githubLogin}`.as('actor_login'),
      host: sql<string | null>`${t.host}`.as('host'),
      details: sql<Record<string, unknown> | null>`${t.details}`.as('details'),
    })
    .from(t)
    .leftJoin(subjectService, eq(subjectService.id, t.subjectServiceId))
    .leftJoin(actorService, eq(actorService.id, t.actorServiceId))
    .leftJoin(subjectUser, eq(subjectUser.id, t.subjectUserId))
    .leftJoin(actorUser, eq(actorUser.id, t.actorUserId))
    .where(and(...conditions))
    .orderBy(desc(t.createdAt), desc(t.id))
    .limit(limit);
}

/** The conditions both tables share: action, outcome, time window, the cursor. */
function common(filter: AuditRowFilter, t: typeof serviceAuditLogs | typeof changeRecords): SQL[] {
  const conditions: SQL[] = [];
  if (filter.action) conditions.push(eq(t.action, filter.action));
  if (filter.success !== undefined) conditions.push(eq(t.success, filter.success));
  if (filter.since) conditions.push(gte(t.createdAt, filter.since));
  if (filter.until) conditions.push(lt(t.createdAt, filter.until));
  if (filter.olderThan) {
    const { createdAt, id } = filter.olderThan;
    conditions.push(or(lt(t.createdAt, createdAt), and(eq(t.createdAt, createdAt), lt(t.id, id))) as SQL);
  }
  return conditions;
}

/**
 * Rows of both tables matching every condition, newest first by (created_at, id) across both, at
 * most `limit`. Each table gives at most `limit` of its newest (an index walk), and the merge keeps
 * the newest `limit` of those: the same order a cursor continues from, whichever table a row is in.
 * Ids are random UUIDs, so two rows of the same millisecond still have one order.
 */
export async function findAuditRows(db: Database, filter: AuditRowFilter, limit: number): Promise<AuditRow[]> {
  const kinds = filter.kinds ?? ['access', 'change', 'sign-in'];
  const changeKinds = kinds.filter((kind): kind is 'change' | 'sign-in' => kind !== 'access');
  // One after the other: one connection of the request's pool, not two.
  const access = kinds.includes('access') ? await accessRows(db, filter, limit) : [];
  const changes = changeKinds.length > 0 ? await changeRows(db, filter, changeKinds, limit) : [];
  return ([...access, ...changes] as AuditRow[])
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit);
}
