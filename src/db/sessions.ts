import { and, desc, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import { serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';

export async function createSession(
  db: Database,
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
export class SessionIdTakenError extends Error {
  override name = 'SessionIdTakenError';
}

export interface SessionWithUser {
  id: string;
  serviceId: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
  user: { id: string; githubUserId: string; githubLogin: string | null; isWhitelisted: boolean };
}

/**
 * Whether the person came to this service and has not left it: the latest session the service was
 * issued for them is not revoked (it may have expired: a service may keep its own, longer sessions).
 * Signing out of the service, or everywhere, revokes it, and so ends this until they sign in again.
 * One indexed lookup (sessions by user id).
 */
export async function hasSignedInThrough(db: Database, userId: string, serviceId: string): Promise<boolean> {
  const [latest] = await db
    .select({ revokedAt: sessions.revokedAt })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.serviceId, serviceId)))
    .orderBy(desc(sessions.createdAt))
    .limit(1);
  return latest !== undefined && latest.revokedAt === null;
}

/** The session and its person in one round trip. */
export async function findSession(db: Database, sessionId: string): Promise<SessionWithUser | null> {
  const [row] = await db
    .select({
      id: sessions.id,
      serviceId: sessions.serviceId,
      expiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
      user: {
        id: users.id,
        githubUserId: users.githubUserId,
        githubLogin: users.githubLogin,
        isWhitelisted: users.isWhitelisted,
      },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId));
  return row ?? null;
}

/**
 * Revokes a session; with `serviceId`, only one that service was issued. Returns whose session it
 * was (for the audit row) when it was live, null when there was nothing to revoke.
 */
export async function revokeSession(
  db: Database,
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

export interface ServiceSessionSummary {
  id: string;
  serviceName: string;
  createdAt: Date;
  expiresAt: Date;
}

/** The person's live sessions at services (not the gateway's own), newest first: for their landing page. */
export async function listLiveServiceSessions(
  db: Database,
  userId: string,
  now = new Date(),
  limit = 50,
): Promise<ServiceSessionSummary[]> {
  return db
    .select({
      id: sessions.id,
      serviceName: serviceRegistry.displayName,
      createdAt: sessions.createdAt,
      expiresAt: sessions.expiresAt,
    })
    .from(sessions)
    .innerJoin(serviceRegistry, eq(serviceRegistry.id, sessions.serviceId))
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        isNotNull(sessions.serviceId),
        eq(serviceRegistry.isActive, true),
      ),
    )
    .orderBy(desc(sessions.createdAt))
    .limit(limit);
}

/**
 * Revokes a person's own live sessions: one of them (`sessionId`), or all of them. Only ever that
 * person's: the id alone cannot reach anyone else's session. Returns what it revoked.
 */
export async function revokePersonSessions(
  db: Database,
  userId: string,
  which: { sessionId: string } | 'all',
  now = new Date(),
): Promise<{ id: string; serviceId: string | null }[]> {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)];
  if (which !== 'all') conditions.push(eq(sessions.id, which.sessionId));
  return db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(...conditions))
    .returning({ id: sessions.id, serviceId: sessions.serviceId });
}
