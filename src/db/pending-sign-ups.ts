import { and, desc, eq, inArray } from 'drizzle-orm';
import { changeRecords, pendingDismissals, serviceRegistry } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/** Hides the person from the console's pending list until they sign in again after `now`. */
export async function upsertPendingDismissal(db: Queryable, userId: string, now = new Date()): Promise<void> {
  await db
    .insert(pendingDismissals)
    .values({ userId, dismissedAt: now })
    .onConflictDoUpdate({ target: pendingDismissals.userId, set: { dismissedAt: now } });
}

/** When each of these people was last dismissed from the pending list, if ever. */
export async function findPendingDismissals(db: Queryable, userIds: string[]): Promise<Map<string, Date>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ userId: pendingDismissals.userId, dismissedAt: pendingDismissals.dismissedAt })
    .from(pendingDismissals)
    .where(inArray(pendingDismissals.userId, userIds));
  return new Map(rows.map((row) => [row.userId, row.dismissedAt]));
}

/**
 * The service each of these people was on their way to at their latest pending sign-in (the
 * `sign-in:pending` change record's subject service), by display name; absent for a sign-in to
 * the gateway itself or a service since deleted. One statement for the page.
 */
export async function findPendingDestinations(db: Queryable, userIds: string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([changeRecords.subjectUserId], {
      userId: changeRecords.subjectUserId,
      serviceName: serviceRegistry.displayName,
      deletedAt: serviceRegistry.deletedAt,
    })
    .from(changeRecords)
    .leftJoin(serviceRegistry, eq(serviceRegistry.id, changeRecords.subjectServiceId))
    .where(and(inArray(changeRecords.subjectUserId, userIds), eq(changeRecords.action, 'sign-in:pending')))
    .orderBy(changeRecords.subjectUserId, desc(changeRecords.createdAt));
  const destinations = new Map<string, string>();
  for (const row of rows)
    if (row.userId && row.serviceName && row.deletedAt === null) destinations.set(row.userId, row.serviceName);
  return destinations;
}
