import { and, eq, inArray, isNotNull, isNull, lt, lte, sql } from 'drizzle-orm';
import { serviceEventAttempts, serviceEvents, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/**
 * Every SQL statement of events pushed to services (src/events/): the outbox (service_events),
 * its attempts, and the services' failing_since. A service gets events only while it has an
 * events URL and is not deleted.
 */
const receivesEvents = and(isNotNull(serviceRegistry.eventsUrl), isNull(serviceRegistry.deletedAt));

/** The person an event names, as its body spells them. */
export interface EventPerson {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
}

export async function findEventPerson(db: Queryable, userId: string): Promise<EventPerson | null> {
  const [row] = await db
    .select({ id: users.id, githubUserId: users.githubUserId, githubLogin: users.githubLogin })
    .from(users)
    .where(eq(users.id, userId));
  return row ?? null;
}

/** Of these services, the ones that receive events. */
export async function servicesReceivingEvents(db: Queryable, serviceIds: string[]): Promise<string[]> {
  if (serviceIds.length === 0) return [];
  const rows = await db
    .select({ id: serviceRegistry.id })
    .from(serviceRegistry)
    .where(and(inArray(serviceRegistry.id, serviceIds), receivesEvents));
  return rows.map((row) => row.id);
}

/** The services that receive events and that the person ever signed in through (any session row). */
export async function servicesSignedInThrough(db: Queryable, userId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ id: serviceRegistry.id })
    .from(sessions)
    .innerJoin(serviceRegistry, eq(serviceRegistry.id, sessions.serviceId))
    .where(and(eq(sessions.userId, userId), receivesEvents));
  return rows.map((row) => row.id);
}

export interface NewEvent {
  serviceId: string;
  type: string;
  body: string;
  /** For an event a sweep may find twice: a second row with the key is not written. */
  dedupeKey?: string;
  createdAt: Date;
}

/** Writes events to the outbox, due at once; returns the ids written (not those a dedupe key skipped). */
export async function insertEvents(db: Queryable, events: NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = await db
    .insert(serviceEvents)
    .values(
      events.map((event) => ({
        serviceId: event.serviceId,
        type: event.type,
        body: event.body,
        dedupeKey: event.dedupeKey ?? null,
        createdAt: event.createdAt,
        nextAttemptAt: event.createdAt,
      })),
    )
    .onConflictDoNothing({ target: serviceEvents.dedupeKey })
    .returning({ id: serviceEvents.id });
  return rows.map((row) => row.id);
}

const pending = and(isNull(serviceEvents.deliveredAt), isNull(serviceEvents.givenUpAt));

/** An event claimed for one attempt, with where it goes and the stored (sealed) secrets. */
export interface ClaimedEvent {
  id: string;
  serviceId: string;
  body: string;
  attempts: number;
  url: string | null;
  secret: string | null;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export type ClaimOutcome =
  | { kind: 'claimed'; event: ClaimedEvent }
  /** Pending but not due before `nextAttemptAt` (or another attempt holds it until then). */
  | { kind: 'not_due'; nextAttemptAt: Date }
  /** Delivered, given up, or gone: nothing more to do. */
  | { kind: 'done' };

/**
 * Claims the event's next attempt: one conditional UPDATE moves next_attempt_at to `leaseUntil`
 * if it is pending and due at `now`, so two consumers (a queue redelivery, a sweep) never both
 * send it; an attempt that dies mid-way is due again once the lease passes.
 */
export async function claimEvent(db: Queryable, eventId: string, now: Date, leaseUntil: Date): Promise<ClaimOutcome> {
  const [claimed] = await db
    .update(serviceEvents)
    .set({ nextAttemptAt: leaseUntil })
    .where(and(eq(serviceEvents.id, eventId), pending, lte(serviceEvents.nextAttemptAt, now)))
    .returning({
      id: serviceEvents.id,
      serviceId: serviceEvents.serviceId,
      body: serviceEvents.body,
      attempts: serviceEvents.attempts,
    });
  if (!claimed) {
    const [row] = await db
      .select({ nextAttemptAt: serviceEvents.nextAttemptAt })
      .from(serviceEvents)
      .where(and(eq(serviceEvents.id, eventId), pending));
    return row ? { kind: 'not_due', nextAttemptAt: row.nextAttemptAt } : { kind: 'done' };
  }
  const [service] = await db
    .select({
      url: serviceRegistry.eventsUrl,
      secret: serviceRegistry.eventsSecret,
      previousSecret: serviceRegistry.eventsPreviousSecret,
      previousSecretExpiresAt: serviceRegistry.eventsPreviousSecretExpiresAt,
      deletedAt: serviceRegistry.deletedAt,
    })
    .from(serviceRegistry)
    .where(eq(serviceRegistry.id, claimed.serviceId));
  const gone = !service || service.deletedAt !== null;
  return {
    kind: 'claimed',
    event: {
      ...claimed,
      url: gone ? null : service.url,
      secret: gone ? null : service.secret,
      previousSecret: gone ? null : service.previousSecret,
      previousSecretExpiresAt: gone ? null : service.previousSecretExpiresAt,
    },
  };
}

/** What one attempt came to. */
export interface AttemptRecord {
  eventId: string;
  serviceId: string;
  attemptedAt: Date;
  status: number | null;
  error: string | null;
  durationMs: number;
  delivered: boolean;
  /** The attempts count after this one. */
  attempts: number;
  /** When to try again; null: given up (or delivered). */
  nextAttemptAt: Date | null;
}

/**
 * Keeps the attempt, and moves the event on: delivered, due again at `nextAttemptAt`, or given up.
 * The service's failing_since is cleared by a delivery and set by a failure when it was clear.
 */
export async function recordAttempt(db: Queryable, attempt: AttemptRecord): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(serviceEventAttempts).values({
      eventId: attempt.eventId,
      attemptedAt: attempt.attemptedAt,
      status: attempt.status,
      error: attempt.error,
      durationMs: attempt.durationMs,
    });
    await tx
      .update(serviceEvents)
      .set({
        attempts: attempt.attempts,
        ...(attempt.delivered
          ? { deliveredAt: attempt.attemptedAt }
          : attempt.nextAttemptAt
            ? { nextAttemptAt: attempt.nextAttemptAt }
            : { givenUpAt: attempt.attemptedAt }),
      })
      .where(eq(serviceEvents.id, attempt.eventId));
    await tx
      .update(serviceRegistry)
      .set(
        attempt.delivered
          ? { eventsFailingSince: null }
          : {
              eventsFailingSince: sql`coalesce(${serviceRegistry.eventsFailingSince}, ${attempt.attemptedAt.toISOString()}::timestamp)`,
            },
      )
      .where(eq(serviceRegistry.id, attempt.serviceId));
  });
}

/** An event with nowhere to go (its service's URL cleared, or the service deleted): given up, no attempt. */
export async function giveUpEvent(db: Queryable, eventId: string, now: Date): Promise<void> {
  await db.update(serviceEvents).set({ givenUpAt: now }).where(eq(serviceEvents.id, eventId));
}

/**
 * Pending events due before `dueBefore`, at most `limit`, and at most `perService` of one service:
 * each service's oldest due first, taken round by round (every service's oldest, then every
 * service's second...), so one service's backlog never crowds another's events out of a sweep.
 */
export async function findOverdueEvents(
  db: Queryable,
  dueBefore: Date,
  limit: number,
  perService: number,
): Promise<string[]> {
  const result = await db.execute<{ id: string }>(sql`
    SELECT id FROM (
      SELECT ${serviceEvents.id} AS id, ${serviceEvents.nextAttemptAt} AS next_attempt_at,
             row_number() OVER (PARTITION BY ${serviceEvents.serviceId} ORDER BY ${serviceEvents.nextAttemptAt}) AS turn
        FROM ${serviceEvents}
       WHERE ${and(pending, lt(serviceEvents.nextAttemptAt, dueBefore))}) due
     WHERE turn <= ${perService}
     ORDER BY turn, next_attempt_at
     LIMIT ${limit}`);
  return result.rows.map((row) => row.id);
}

/** A service's standing access to a person that ran out: its latest session, unrevoked, and when it ended. */
export interface EndedStandingAccess {
  serviceId: string;
  sessionId: string;
  person: EventPerson;
  endedAt: Date;
}

/**
 * The standing accesses that ran out in (`from`, `to`]: for each person and service that
 * receives events, the latest session (by creation), unrevoked, whose end plus
 * `standingAccessSeconds` falls in that window (src/db/sessions.ts, hasSignedInThrough).
 */
export async function findEndedStandingAccess(
  db: Queryable,
  standingAccessSeconds: number,
  from: Date,
  to: Date,
): Promise<EndedStandingAccess[]> {
  const shift = standingAccessSeconds * 1000;
  // Sessions that ended before this cannot be the one whose access ran out in the window.
  const floor = stamp(from.getTime() - shift);
  const ceiling = stamp(to.getTime() - shift);
  const result = await db.execute<{
    service_id: string;
    session_id: string;
    expires_at: string;
    user_id: string;
    github_user_id: string;
    github_login: string | null;
  }>(sql`
    SELECT latest.service_id, latest.session_id, latest.expires_at::text AS expires_at,
           u.id AS user_id, u.github_user_id, u.github_login
      FROM (SELECT DISTINCT ON (s.user_id, s.service_id)
                   s.id AS session_id, s.user_id, s.service_id, s.expires_at, s.revoked_at
              FROM ${sessions} s
              JOIN ${serviceRegistry} r ON r.id = s.service_id
             WHERE r.events_url IS NOT NULL AND r.deleted_at IS NULL
               AND s.expires_at > ${floor}::timestamp
             ORDER BY s.user_id, s.service_id, s.created_at DESC) latest
      JOIN ${users} u ON u.id = latest.user_id
     WHERE latest.revoked_at IS NULL
       AND latest.expires_at > ${floor}::timestamp
       AND latest.expires_at <= ${ceiling}::timestamp`);
  return result.rows.map((row) => ({
    serviceId: row.service_id,
    sessionId: row.session_id,
    person: { id: row.user_id, githubUserId: row.github_user_id, githubLogin: row.github_login },
    endedAt: new Date(new Date(`${row.expires_at.replace(' ', 'T')}Z`).getTime() + shift),
  }));
}

/** The columns hold UTC clock times without a zone: an ISO string cast to timestamp keeps them so. */
function stamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Services whose deliveries have failed since before `before`, with an events URL, not deleted. */
export async function findFailingServices(
  db: Queryable,
  before: Date,
): Promise<{ id: string; identifier: string; failingSince: Date }[]> {
  const rows = await db
    .select({
      id: serviceRegistry.id,
      identifier: serviceRegistry.serviceIdentifier,
      failingSince: serviceRegistry.eventsFailingSince,
    })
    .from(serviceRegistry)
    .where(and(receivesEvents, lt(serviceRegistry.eventsFailingSince, before)));
  return rows.flatMap((row) => (row.failingSince ? [{ ...row, failingSince: row.failingSince }] : []));
}
