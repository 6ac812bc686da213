import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { type Service, serviceEventAttempts, serviceEvents, serviceRegistry } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/**
 * Where a service's events go and how they are signed (docs/api.md, "Events pushed to your
 * service"): the SQL of registering, clearing and rotating an events URL's secret, and of reading
 * the delivery records. Writing and delivering events is src/db/service-events.ts.
 */

/** An event neither delivered nor given up: what `undelivered` counts and a clear gives up. */
const undelivered = and(isNull(serviceEvents.deliveredAt), isNull(serviceEvents.givenUpAt));

/**
 * The service's events as every listing shows them, as columns of a select (or an UPDATE's
 * RETURNING) over service_registry: one scalar subquery per row, inside the one statement, over
 * the service's undelivered events only. Written with `service_registry.id` spelled out: in a
 * RETURNING, drizzle names columns unqualified, and a bare `id` would be the event's.
 */
export const eventsSummaryColumns = {
  eventsUrl: serviceRegistry.eventsUrl,
  eventsFailingSince: serviceRegistry.eventsFailingSince,
  eventsUndelivered: sql<number>`(select count(*)::int from service_events ue
      where ue.service_id = service_registry.id and ue.delivered_at is null and ue.given_up_at is null)`.mapWith(
    Number,
  ),
};

/** What a change of a service's events endpoint reads first, its row locked until the transaction ends. */
export type EventsEndpointRow = Pick<
  Service,
  'id' | 'serviceIdentifier' | 'eventsUrl' | 'eventsSecret' | 'eventsPreviousSecret' | 'eventsPreviousSecretExpiresAt'
>;

/**
 * The (undeleted) service's events endpoint, locked FOR UPDATE: two changes at once (two rotations,
 * a set and a clear) run one after the other, the second reading what the first wrote. Null when
 * there is no such service.
 */
export async function lockEventsEndpoint(tx: Queryable, identifier: string): Promise<EventsEndpointRow | null> {
  const [row] = await tx
    .select({
      id: serviceRegistry.id,
      serviceIdentifier: serviceRegistry.serviceIdentifier,
      eventsUrl: serviceRegistry.eventsUrl,
      eventsSecret: serviceRegistry.eventsSecret,
      eventsPreviousSecret: serviceRegistry.eventsPreviousSecret,
      eventsPreviousSecretExpiresAt: serviceRegistry.eventsPreviousSecretExpiresAt,
    })
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), isNull(serviceRegistry.deletedAt)))
    .for('update');
  return row ?? null;
}

/** The endpoint's columns a change writes; the others stay as they are. */
export type EventsEndpointChange = Partial<
  Pick<
    Service,
    'eventsUrl' | 'eventsSecret' | 'eventsPreviousSecret' | 'eventsPreviousSecretExpiresAt' | 'eventsFailingSince'
  >
>;

export async function writeEventsEndpoint(
  tx: Queryable,
  serviceId: string,
  change: EventsEndpointChange,
): Promise<void> {
  await tx.update(serviceRegistry).set(change).where(eq(serviceRegistry.id, serviceId));
}

/**
 * Gives up the service's undelivered events (they are kept, with their attempts, for the record:
 * `events show` lists them as given up at `now`). Returns how many.
 */
export async function giveUpUndeliveredEvents(tx: Queryable, serviceId: string, now: Date): Promise<number> {
  const given = await tx
    .update(serviceEvents)
    .set({ givenUpAt: now })
    .where(and(eq(serviceEvents.serviceId, serviceId), undelivered))
    .returning({ id: serviceEvents.id });
  return given.length;
}

/** The service's events endpoint as a listing shows it, and when its previous secret stops signing. */
export async function findEventsEndpointState(
  db: Queryable,
  identifier: string,
): Promise<{
  id: string;
  eventsUrl: string | null;
  eventsFailingSince: Date | null;
  eventsUndelivered: number;
  eventsPreviousSecretExpiresAt: Date | null;
  hasPreviousSecret: boolean;
} | null> {
  const [row] = await db
    .select({
      id: serviceRegistry.id,
      ...eventsSummaryColumns,
      eventsPreviousSecretExpiresAt: serviceRegistry.eventsPreviousSecretExpiresAt,
      hasPreviousSecret: sql<boolean>`${serviceRegistry.eventsPreviousSecret} is not null`,
    })
    .from(serviceRegistry)
    .where(and(eq(serviceRegistry.serviceIdentifier, identifier), isNull(serviceRegistry.deletedAt)));
  return row ?? null;
}

/** An event as the deliveries page lists it, with its latest attempt (null before the first). */
export interface DeliveryRow {
  id: string;
  type: string;
  createdAt: Date;
  attempts: number;
  deliveredAt: Date | null;
  givenUpAt: Date | null;
  nextAttemptAt: Date;
  lastAttempt: { at: Date; status: number | null; error: string | null; durationMs: number } | null;
}

/**
 * The service's events, newest first by (created_at, id), from just after `olderThan` (the last
 * row of the page before), each with its latest attempt: one statement, the attempt found per
 * event by a lateral join over the attempts' event_id index.
 */
export async function findDeliveries(
  db: Queryable,
  serviceId: string,
  page: { limit: number; olderThan?: { createdAt: Date; id: string } },
): Promise<DeliveryRow[]> {
  const latest = db
    .select({
      at: serviceEventAttempts.attemptedAt,
      status: serviceEventAttempts.status,
      error: serviceEventAttempts.error,
      durationMs: serviceEventAttempts.durationMs,
    })
    .from(serviceEventAttempts)
    .where(eq(serviceEventAttempts.eventId, serviceEvents.id))
    .orderBy(desc(serviceEventAttempts.attemptedAt), desc(serviceEventAttempts.id))
    .limit(1)
    .as('latest');
  const { olderThan } = page;
  const rows = await db
    .select({
      id: serviceEvents.id,
      type: serviceEvents.type,
      createdAt: serviceEvents.createdAt,
      attempts: serviceEvents.attempts,
      deliveredAt: serviceEvents.deliveredAt,
      givenUpAt: serviceEvents.givenUpAt,
      nextAttemptAt: serviceEvents.nextAttemptAt,
      at: latest.at,
      status: latest.status,
      error: latest.error,
      durationMs: latest.durationMs,
    })
    .from(serviceEvents)
    .leftJoinLateral(latest, sql`true`)
    .where(
      and(
        eq(serviceEvents.serviceId, serviceId),
        olderThan
          ? or(
              lt(serviceEvents.createdAt, olderThan.createdAt),
              and(eq(serviceEvents.createdAt, olderThan.createdAt), lt(serviceEvents.id, olderThan.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(serviceEvents.createdAt), desc(serviceEvents.id))
    .limit(page.limit);
  return rows.map(({ at, status, error, durationMs, ...event }) => ({
    ...event,
    lastAttempt: at === null || durationMs === null ? null : { at, status, error, durationMs },
  }));
}
