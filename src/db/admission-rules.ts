import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { admissionRules } from '../../drizzle/schema.ts';
import type { AdmissionRule, RuleKind } from '../admission/rule.ts';
import type { Queryable } from './client.ts';

export type NewAdmissionRule = Omit<AdmissionRule, 'id' | 'createdAt' | 'removedAt' | 'removedBy'> & {
  target: string;
};

/** The live rules, oldest first; with `kinds`, only those. */
export async function findLiveRules(db: Queryable, kinds?: readonly RuleKind[]): Promise<AdmissionRule[]> {
  const conditions = [isNull(admissionRules.removedAt)];
  if (kinds) conditions.push(inArray(admissionRules.kind, [...kinds]));
  const rows = await db
    .select()
    .from(admissionRules)
    .where(and(...conditions))
    .orderBy(asc(admissionRules.createdAt), asc(admissionRules.id));
  return rows.map(toRule);
}

/**
 * The database's clock, in UTC: rule times are compared with the Worker's membership-check times,
 * and an operator's laptop clock running ahead would make every check look older than the rules.
 */
const databaseNow = sql`(now() AT TIME ZONE 'UTC')`;

/**
 * Makes a rule, unless a live one names the same target: then that one comes back and `made` is
 * false. One statement, safe when two operators make the same rule at once (the unique index).
 */
export async function insertRule(
  db: Queryable,
  rule: NewAdmissionRule,
): Promise<{ rule: AdmissionRule; made: boolean }> {
  const [made] = await db
    .insert(admissionRules)
    .values({ ...rule, id: crypto.randomUUID(), createdAt: databaseNow })
    .onConflictDoNothing({ target: admissionRules.target, where: sql`${admissionRules.removedAt} IS NULL` })
    .returning();
  if (made) return { rule: toRule(made), made: true };
  const [existing] = await db
    .select()
    .from(admissionRules)
    .where(and(eq(admissionRules.target, rule.target), isNull(admissionRules.removedAt)));
  if (!existing) throw new Error('admission rule neither made nor found');
  return { rule: toRule(existing), made: false };
}

/** Marks the live rule removed (kept for the record); null when no live rule has this id. */
export async function markRuleRemoved(db: Queryable, id: string, removedBy: string): Promise<AdmissionRule | null> {
  const [row] = await db
    .update(admissionRules)
    .set({ removedAt: databaseNow, removedBy })
    .where(and(eq(admissionRules.id, id), isNull(admissionRules.removedAt)))
    .returning();
  return row ? toRule(row) : null;
}

function toRule(row: typeof admissionRules.$inferSelect): AdmissionRule {
  return {
    id: row.id,
    kind: row.kind as RuleKind,
    orgLogin: row.orgLogin,
    orgId: row.orgId,
    teamSlug: row.teamSlug,
    githubUserId: row.githubUserId,
    githubLogin: row.githubLogin,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    removedAt: row.removedAt,
    removedBy: row.removedBy,
  };
}
