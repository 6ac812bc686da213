import { and, count, desc, eq, gt, inArray, isNull, lt, max, or, type SQL, sql } from 'drizzle-orm';
import { serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';

/** A person as the operator's list shows them: never their tokens. */
export interface PersonRow {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
  isWhitelisted: boolean;
  lastSignInAt: Date | null;
  createdAt: Date;
}

/** Where a page starts: after this person in the list's order (last sign-in newest first, then id). */
export interface PeoplePosition {
  lastSignInAt: Date | null;
  id: string;
}

/** A person's live sessions at one service (null: the gateway's own landing). */
export interface LiveSessionsRow {
  userId: string;
  serviceIdentifier: string | null;
  live: number;
  latestExpiresAt: Date;
}

/**
 * People, newest sign-in first (people never seen signing in since last_sign_in_at was kept last),
 * then by id, at most `limit`; with `notWhitelisted`, only those the whitelist does not admit.
 * One statement.
 */
export async function findPeople(
  db: Database,
  filter: { notWhitelisted: boolean; after?: PeoplePosition },
  limit: number,
): Promise<PersonRow[]> {
  const conditions: SQL[] = [];
  if (filter.notWhitelisted) conditions.push(eq(users.isWhitelisted, false));
  if (filter.after) conditions.push(afterPosition(filter.after));
  return db
    .select({
      id: users.id,
      githubUserId: users.githubUserId,
      githubLogin: users.githubLogin,
      isWhitelisted: users.isWhitelisted,
      lastSignInAt: users.lastSignInAt,
      createdAt: users.createdAt,
    })
    .from(users)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(sql`${users.lastSignInAt} desc nulls last`, desc(users.id))
    .limit(limit);
}

/** The rows after `position` in `desc nulls last, id desc` order. */
function afterPosition({ lastSignInAt, id }: PeoplePosition): SQL {
  if (lastSignInAt === null) return and(isNull(users.lastSignInAt), lt(users.id, id)) as SQL;
  return or(
    lt(users.lastSignInAt, lastSignInAt),
    and(eq(users.lastSignInAt, lastSignInAt), lt(users.id, id)),
    isNull(users.lastSignInAt),
  ) as SQL;
}

/**
 * The live sessions (not revoked, not expired at `now`) of these people, counted per person and
 * service, with the latest expiry; a deleted service's are left out. One statement for the whole
 * page (the sessions_user_id_idx index), never one per person.
 */
export async function countLiveSessions(db: Database, userIds: string[], now = new Date()): Promise<LiveSessionsRow[]> {
  if (userIds.length === 0) return [];
  const rows = await db
    .select({
      userId: sessions.userId,
      serviceIdentifier: serviceRegistry.serviceIdentifier,
      live: count(),
      latestExpiresAt: max(sessions.expiresAt),
    })
    .from(sessions)
    .leftJoin(serviceRegistry, eq(serviceRegistry.id, sessions.serviceId))
    .where(
      and(
        inArray(sessions.userId, userIds),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
        isNull(serviceRegistry.deletedAt),
      ),
    )
    .groupBy(sessions.userId, serviceRegistry.serviceIdentifier)
    .orderBy(sessions.userId, sql`${serviceRegistry.serviceIdentifier} asc nulls first`);
  return rows.map((row) => ({
    userId: row.userId,
    serviceIdentifier: row.serviceIdentifier,
    live: row.live,
    // max() over at least one row (the group exists) is never null.
    latestExpiresAt: row.latestExpiresAt ?? now,
  }));
}
