import { eq, inArray } from 'drizzle-orm';
import { operatorGrants } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/** Gives the person the operator grant; false when they held it already (nothing written). */
export async function insertOperatorGrant(db: Queryable, userId: string, now = new Date()): Promise<boolean> {
  const rows = await db
    .insert(operatorGrants)
    .values({ userId, grantedAt: now })
    .onConflictDoNothing()
    .returning({ userId: operatorGrants.userId });
  return rows.length > 0;
}

/** Takes the grant away; false when they did not hold it. */
export async function deleteOperatorGrant(db: Queryable, userId: string): Promise<boolean> {
  const rows = await db
    .delete(operatorGrants)
    .where(eq(operatorGrants.userId, userId))
    .returning({ userId: operatorGrants.userId });
  return rows.length > 0;
}

/** Whether the person holds the grant now: one primary-key lookup. */
export async function hasOperatorGrant(db: Queryable, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: operatorGrants.userId })
    .from(operatorGrants)
    .where(eq(operatorGrants.userId, userId));
  return row !== undefined;
}

/** Which of these people hold the grant (one statement for a page of people). */
export async function findOperatorIds(db: Queryable, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db
    .select({ userId: operatorGrants.userId })
    .from(operatorGrants)
    .where(inArray(operatorGrants.userId, userIds));
  return new Set(rows.map((row) => row.userId));
}
