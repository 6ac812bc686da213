import { and, count, desc, eq, gt, inArray, isNull, lt, max, or, type SQL, sql } from 'drizzle-orm';
import { serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';
import { type AdmissionFacts, admissionFactColumns, membershipCheckJoin } from './membership-checks.ts';

/** A person as the operator's list shows them, with the facts verify decides admission from: never their tokens. */
export interface PersonRow extends AdmissionFacts {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
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
 * then by id, at most `limit`, each with their admission facts (sub-selects on the small rules
 * table and their last membership check, joined). With `refusedAt`, only those decideAdmission
 * refuses at that time under that hard bound (refusedWhere), so a page of pending people is full.
 * One statement.
 */
export async function findPeople(
  db: Database,
  filter: { refusedAt?: { now: Date; hardSeconds: number }; after?: PeoplePosition },
  limit: number,
): Promise<PersonRow[]> {
  const facts = admissionFactColumns();
  const conditions: SQL[] = [];
  if (filter.refusedAt) conditions.push(refusedWhere(facts, filter.refusedAt.now, filter.refusedAt.hardSeconds));
  if (filter.after) conditions.push(afterPosition(filter.after));
  return db
    .select({
      id: users.id,
      githubUserId: users.githubUserId,
      githubLogin: users.githubLogin,
      lastSignInAt: users.lastSignInAt,
      createdAt: users.createdAt,
      ...facts,
    })
    .from(users)
    .leftJoin(...membershipCheckJoin)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(sql`${users.lastSignInAt} desc nulls last`, desc(users.id))
    .limit(limit);
}

/**
 * decideAdmission's refusal as a condition, so the pending filter runs in the query: not
 * whitelisted, no live login rule, and either no org or team rule (not_whitelisted) or no check
 * within the hard bound (membership_unverified) or a check that found them in no live rule
 * (not_a_member). A check at exactly the bound still counts, as in decideAdmission.
 */
function refusedWhere(facts: ReturnType<typeof admissionFactColumns>, now: Date, hardSeconds: number): SQL {
  const oldestCounted = new Date(now.getTime() - hardSeconds * 1000);
  return and(
    eq(facts.isWhitelisted, false),
    isNull(facts.loginRuleId),
    or(
      sql`${facts.membershipRules} = 0`,
      isNull(facts.checkedAt),
      lt(facts.checkedAt, oldestCounted),
      isNull(facts.admittedByRuleId),
    ),
  ) as SQL;
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
