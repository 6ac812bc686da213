import { and, count, desc, eq, gt, isNotNull, isNull, notExists, sql } from 'drizzle-orm';
import { type Session, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Database, Queryable } from './client.ts';
import { voidUnexchangedLoginCodes } from './login-codes.ts';
import { type AdmissionFacts, admissionFactColumns, membershipCheckJoin } from './membership-checks.ts';
import { type AdmittablePerson, admittablePerson, type SignedInUser, signedInColumns } from './users.ts';

export async function createSession(
  db: Queryable,
  grant: { userId: string; serviceId: string | null; ttlSeconds: number; id?: string },
  now = new Date(),
): Promise<{ id: string; expiresAt: Date }> {
  const expiresAt = new Date(now.getTime() + grant.ttlSeconds * 1000);
  const [row] = await db
    .insert(sessions)
    .values({ ...(grant.id ? { id: grant.id } : {}), userId: grant.userId, serviceId: grant.serviceId, expiresAt })
    .onConflictDoNothing({ target: sessions.id })
    .returning({ id: sessions.id, expiresAt: sessions.expiresAt });
  if (!row) throw new SessionIdTakenError();
  return row;
}

/** The chosen session id exists already: a replay of the login code wrote it, revoked. */
export class SessionIdTakenError extends GatewayError<'session_id_taken'> {
  constructor() {
    super('session_id_taken', 'conflict', 'A session with this id already exists.');
  }
}

export type SessionWithUser = Pick<Session, 'id' | 'serviceId' | 'expiresAt' | 'revokedAt' | 'createdAt'> & {
  user: AdmittablePerson;
};

/**
 * The earliest expiry a service's latest session may have and still give it standing access:
 * `standingAccessSeconds` before now (docs/api.md, "standing access").
 */
function standingAccessFloor(standingAccessSeconds: number, now: Date): Date {
  return new Date(now.getTime() - standingAccessSeconds * 1000);
}

/**
 * Whether the service has standing access to the person (may fetch their GitHub token by user id):
 * the latest session it was issued for them is not revoked, and is live or expired for less than
 * `standingAccessSeconds` (a service may keep its own, longer sessions, but not for ever). Signing
 * out of the service, or everywhere, revokes it and so ends this until they sign in again.
 * One indexed lookup (sessions by user id).
 */
export async function hasSignedInThrough(
  db: Database,
  userId: string,
  serviceId: string,
  standingAccessSeconds: number,
  now = new Date(),
): Promise<boolean> {
  const [latest] = await db
    .select({ revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.serviceId, serviceId)))
    .orderBy(desc(sessions.createdAt))
    .limit(1);
  return (
    latest !== undefined &&
    latest.revokedAt === null &&
    latest.expiresAt.getTime() > standingAccessFloor(standingAccessSeconds, now).getTime()
  );
}

/** What a session lookup selects: the session, its person and their admission facts. */
export function sessionWithUserColumns() {
  return {
    sessionId: sessions.id,
    serviceId: sessions.serviceId,
    expiresAt: sessions.expiresAt,
    revokedAt: sessions.revokedAt,
    sessionCreatedAt: sessions.createdAt,
    ...signedInColumns,
    ...admissionFactColumns(),
  };
}

/** A row of `sessionWithUserColumns`. */
export type SessionWithUserRow = Pick<SessionWithUser, 'serviceId' | 'expiresAt' | 'revokedAt'> & {
  sessionId: string;
  sessionCreatedAt: Date;
} & SignedInUser &
  AdmissionFacts;

export function toSessionWithUser(row: SessionWithUserRow): SessionWithUser {
  const { sessionId: id, serviceId, expiresAt, revokedAt, sessionCreatedAt: createdAt, ...person } = row;
  return { id, serviceId, expiresAt, revokedAt, createdAt, user: admittablePerson(person) };
}

/** The session, its person and their admission facts in one round trip. */
export async function findSession(db: Database, sessionId: string): Promise<SessionWithUser | null> {
  const [row] = await db
    .select(sessionWithUserColumns())
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .leftJoin(...membershipCheckJoin)
    .where(eq(sessions.id, sessionId));
  return row ? toSessionWithUser(row) : null;
}

/**
 * Revokes a session; with `serviceId`, only one that service was issued. Returns whose session it
 * was (for the audit row) when it was live, null when there was nothing to revoke.
 */
export async function revokeSession(
  db: Queryable,
  sessionId: string,
  serviceId?: string | null,
  now = new Date(),
): Promise<{ userId: string } | null> {
  const conditions = [eq(sessions.id, sessionId), isNull(sessions.revokedAt)];
  if (serviceId !== undefined)
    conditions.push(serviceId === null ? isNull(sessions.serviceId) : eq(sessions.serviceId, serviceId));
  const revoked = await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ userId: sessions.userId });
  return revoked[0] ?? null;
}

export interface ServiceAccess {
  serviceId: string;
  serviceName: string;
  /** When the person last signed in through it. */
  lastSignedInAt: Date;
  /** When its access ends unless the person signs out first: its last live session, or standing access. */
  accessEndsAt: Date;
  /** Its registered return addresses, in order: the landing links its name to the first one's site. */
  redirectUris: string[];
}

/**
 * Every active service that still has access to the person, one entry per service, most recent
 * sign-in first: a live session there, or standing access (hasSignedInThrough). For their landing
 * page, so that whatever can still act for them can be seen and ended. Reads the sessions that
 * can still matter (expiring after the standing-access floor), by the user id index.
 */
export async function listServiceAccess(
  db: Database,
  userId: string,
  standingAccessSeconds: number,
  now = new Date(),
): Promise<ServiceAccess[]> {
  const floor = standingAccessFloor(standingAccessSeconds, now);
  const rows = await db
    .select({
      serviceId: sessions.serviceId,
      serviceName: serviceRegistry.displayName,
      redirectUris: serviceRegistry.redirectUris,
      createdAt: sessions.createdAt,
      expiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
    })
    .from(sessions)
    .innerJoin(serviceRegistry, eq(serviceRegistry.id, sessions.serviceId))
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, floor), eq(serviceRegistry.isActive, true)))
    .orderBy(desc(sessions.createdAt));
  const byService = new Map<string, ServiceAccess>();
  const seen = new Set<string>();
  for (const row of rows) {
    if (row.serviceId === null) continue;
    // Rows come newest first: the first one of a service is its latest session.
    const isLatest = !seen.has(row.serviceId);
    seen.add(row.serviceId);
    let endsAt: Date | null = null;
    if (row.revokedAt === null && isLatest) endsAt = new Date(row.expiresAt.getTime() + standingAccessSeconds * 1000);
    else if (row.revokedAt === null && row.expiresAt > now) endsAt = row.expiresAt;
    if (endsAt === null) continue;
    const known = byService.get(row.serviceId);
    if (known) {
      if (endsAt > known.accessEndsAt) known.accessEndsAt = endsAt;
    } else {
      byService.set(row.serviceId, {
        serviceId: row.serviceId,
        serviceName: row.serviceName,
        lastSignedInAt: row.createdAt,
        accessEndsAt: endsAt,
        redirectUris: row.redirectUris,
      });
    }
  }
  return [...byService.values()];
}

/**
 * Revokes a person's own unrevoked sessions, live or expired: every one at one service
 * (`serviceId`), or all of them (every service and the gateway's own). Only ever that person's:
 * a service id alone cannot reach anyone else's session. The person's login codes not yet
 * exchanged there are used up too, so none of them becomes a session afterwards. Returns what it
 * revoked.
 */
export async function revokePersonSessions(
  db: Queryable,
  userId: string,
  which: { serviceId: string } | 'all',
  now = new Date(),
): Promise<{ id: string; serviceId: string | null }[]> {
  // Codes first: one exchanged between the two statements would make a session the second revokes.
  await voidUnexchangedLoginCodes(db, userId, which, now);
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
  if (which !== 'all') conditions.push(eq(sessions.serviceId, which.serviceId));
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ id: sessions.id, serviceId: sessions.serviceId });
}

/**
 * The people a standing-access grant for the service would reach: whitelisted, with a stored
 * GitHub access token, and no session row with that service at all (live, expired or revoked: a
 * person who signed in through it, or signed out of it, keeps what that left).
 */
function ungrantedPeople(serviceId: string) {
  return and(
    eq(users.isWhitelisted, true),
    isNotNull(users.accessToken),
    notExists(
      sql`(select 1 from ${sessions} where ${sessions.userId} = ${users.id} and ${sessions.serviceId} = ${serviceId})`,
    ),
  );
}

/** How many people `grantStandingAccessRows` would give a row (for a dry run). */
export async function countUngrantedPeople(db: Queryable, serviceId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users).where(ungrantedPeople(serviceId));
  return row?.n ?? 0;
}

/**
 * One INSERT ... SELECT: for every person `ungrantedPeople` names, a session row with the service
 * that expired as it was made (`expires_at` = `created_at` = now). No token exists for it, so it
 * can never be used as a session; as the service's latest session for the person it gives the
 * service standing access (hasSignedInThrough) for `standingAccessSeconds` from now, as a sign-in
 * that just ended would, and the person's sign-outs revoke it like any other. Returns how many.
 */
export async function grantStandingAccessRows(db: Queryable, serviceId: string, now: Date): Promise<number> {
  // The columns hold UTC clock times without a zone: an ISO string cast to timestamp keeps them so.
  const stamp = now.toISOString();
  const inserted = await db
    .insert(sessions)
    .select(
      db
        .select({
          id: sql`gen_random_uuid()`.as('id'),
          userId: users.id,
          serviceId: sql`${serviceId}::uuid`.as('service_id'),
          expiresAt: sql`${stamp}::timestamp`.as('expires_at'),
          revokedAt: sql`null::timestamp`.as('revoked_at'),
          createdAt: sql`${stamp}::timestamp`.as('created_at'),
        })
        .from(users)
        .where(ungrantedPeople(serviceId)),
    )
    .returning({ id: sessions.id });
  return inserted.length;
}
