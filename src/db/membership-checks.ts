import { eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import { admissionRules, membershipChecks, users } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/**
 * What verify needs to know of a person's admission, read in the same query as their session
 * (sub-selects on the small rules table, one join): no round trip of its own.
 */
export interface AdmissionFacts {
  isWhitelisted: boolean;
  /** A live login rule naming the person's GitHub id. */
  loginRuleId: string | null;
  /** How many live org and team rules there are. */
  membershipRules: number;
  /** When an org or team rule was last made or removed: a check from before it is due again. */
  membershipRulesChangedAt: Date | null;
  /** The last membership check: the live rule it found the person a member through (or null). */
  admittedByRuleId: string | null;
  checkedAt: Date | null;
  attemptedAt: Date | null;
}

const MEMBERSHIP_KINDS = sql`('org', 'team')`;

/** The columns of AdmissionFacts, for a query that joins `users` with `membershipChecks` (left). */
export function admissionFactColumns() {
  const rules = admissionRules;
  return {
    isWhitelisted: users.isWhitelisted,
    loginRuleId: sql<
      string | null
    >`(SELECT ${rules.id} FROM ${rules} WHERE ${rules.kind} = 'login' AND ${rules.githubUserId} = ${users.githubUserId} AND ${rules.removedAt} IS NULL LIMIT 1)`,
    membershipRules:
      sql<number>`(SELECT count(*) FROM ${rules} WHERE ${rules.kind} IN ${MEMBERSHIP_KINDS} AND ${rules.removedAt} IS NULL)`.mapWith(
        Number,
      ),
    membershipRulesChangedAt:
      sql<Date | null>`(SELECT max(coalesce(${rules.removedAt}, ${rules.createdAt})) FROM ${rules} WHERE ${rules.kind} IN ${MEMBERSHIP_KINDS})`.mapWith(
        membershipChecks.checkedAt,
      ),
    // Only a rule that is still live admits.
    admittedByRuleId: sql<
      string | null
    >`(SELECT ${rules.id} FROM ${rules} WHERE ${rules.id} = ${membershipChecks.admittedByRuleId} AND ${rules.removedAt} IS NULL)`,
    checkedAt: membershipChecks.checkedAt,
    attemptedAt: membershipChecks.attemptedAt,
  };
}

/** Joins a person's last membership check onto a query of `users`. */
export const membershipCheckJoin: [typeof membershipChecks, SQL] = [
  membershipChecks,
  eq(membershipChecks.userId, users.id),
];

/**
 * Claims the person's next membership check: moves `attempted_at` to now unless another attempt
 * started after `notBefore` (another isolate is on it). True when this caller got it. One
 * statement, so two isolates never both ask GitHub for the same person at once.
 */
export async function claimMembershipCheck(
  db: Queryable,
  userId: string,
  notBefore: Date,
  now = new Date(),
): Promise<boolean> {
  const claimed = await db
    .insert(membershipChecks)
    .values({ userId, attemptedAt: now })
    .onConflictDoUpdate({
      target: membershipChecks.userId,
      set: { attemptedAt: now },
      setWhere: lt(membershipChecks.attemptedAt, notBefore),
    })
    .returning({ userId: membershipChecks.userId });
  return claimed.length > 0;
}

/** What a check found: GitHub's answer (as of when it was asked), or none. */
export type MembershipCheckResult =
  /** `admittedByRuleId` the rule a membership admits by, or null for none. */
  | { answered: true; admittedByRuleId: string | null; askedAt: Date }
  /**
   * No answer: the last one stands (until the hard bound), unless `forget`: the person's own token
   * no longer works (revoked, refresh refused), so nothing can confirm them until they sign in.
   */
  | { answered: false; failure: string; forget: boolean };

/**
 * Keeps a check's result. An answer is kept only if no answer asked later is kept already (a slow
 * re-check never overwrites a sign-in's newer "no"); its time is when GitHub was asked, not when it
 * was saved. Returns the rule the answer before admitted by, so the caller can tell a membership
 * that ended (null also when nothing was written). One statement: the CTE reads the row as it was.
 */
export async function saveMembershipCheck(
  db: Queryable,
  userId: string,
  result: MembershipCheckResult,
  now = new Date(),
): Promise<{ previousRuleId: string | null }> {
  const previous = db.$with('previous').as(
    db
      .select({ ruleId: sql<string | null>`${membershipChecks.admittedByRuleId}`.as('rule_id') })
      .from(membershipChecks)
      .where(eq(membershipChecks.userId, userId)),
  );
  const values = result.answered
    ? { admittedByRuleId: result.admittedByRuleId, checkedAt: result.askedAt, failure: null }
    : { failure: result.failure, ...(result.forget ? { checkedAt: null } : {}) };
  const newer = result.answered
    ? or(isNull(membershipChecks.checkedAt), lt(membershipChecks.checkedAt, result.askedAt))
    : undefined;
  const [row] = await db
    .with(previous)
    .insert(membershipChecks)
    .values({ userId, attemptedAt: now, ...values })
    .onConflictDoUpdate({
      target: membershipChecks.userId,
      set: { attemptedAt: now, ...values },
      ...(newer ? { setWhere: newer } : {}),
    })
    .returning({ previousRuleId: sql<string | null>`(SELECT rule_id FROM previous)` });
  return { previousRuleId: row?.previousRuleId ?? null };
}
