import type { Queryable } from '../db/client.ts';
import {
  type EventPerson,
  findEventPerson,
  insertEvents,
  servicesReceivingEvents,
  servicesSignedInThrough,
} from '../db/service-events.ts';
import {
  type AdmissionEndedReason,
  admissionEndedBody,
  type SessionEndedReason,
  sessionEndedBody,
} from './event-body.ts';

/**
 * Writes the outbox rows of a change, in the caller's transaction (so an event exists exactly when
 * its change does), for services that have an events URL and are not deleted; the caller starts
 * their delivery after its response (src/events/start-delivery.ts). Returns the new events' ids.
 */

/** `session.ended`: one event per service whose sessions ended, carrying all of that service's session ids. */
export async function emitSessionEnded(
  db: Queryable,
  ended: { userId: string; sessions: { id: string; serviceId: string | null }[]; reason: SessionEndedReason },
  at = new Date(),
): Promise<string[]> {
  const byService = new Map<string, string[]>();
  for (const session of ended.sessions) {
    if (session.serviceId === null) continue;
    byService.set(session.serviceId, [...(byService.get(session.serviceId) ?? []), session.id]);
  }
  const receiving = await servicesReceivingEvents(db, [...byService.keys()]);
  if (receiving.length === 0) return [];
  const person = await findEventPerson(db, ended.userId);
  if (!person) return [];
  return insertEvents(
    db,
    receiving.map((serviceId) => ({
      serviceId,
      type: 'session.ended',
      body: sessionEndedBody(person, byService.get(serviceId) ?? [], ended.reason, at),
      createdAt: at,
    })),
  );
}

/** `admission.ended`: to every service that receives events and the person signed in through. */
export async function emitAdmissionEnded(
  db: Queryable,
  ended: { userId: string; reason: AdmissionEndedReason },
  at = new Date(),
): Promise<string[]> {
  const services = await servicesSignedInThrough(db, ended.userId);
  if (services.length === 0) return [];
  const person = await findEventPerson(db, ended.userId);
  if (!person) return [];
  return insertEvents(
    db,
    services.map((serviceId) => ({
      serviceId,
      type: 'admission.ended',
      body: admissionEndedBody(person, ended.reason, at),
      createdAt: at,
    })),
  );
}

/** `session.ended` `standing_access_expired`, keyed by the session whose access ran out: two sweeps write one. */
export async function emitStandingAccessExpired(
  db: Queryable,
  ended: { serviceId: string; sessionId: string; person: EventPerson; endedAt: Date }[],
): Promise<string[]> {
  return insertEvents(
    db,
    ended.map((access) => ({
      serviceId: access.serviceId,
      type: 'session.ended',
      body: sessionEndedBody(access.person, [access.sessionId], 'standing_access_expired', access.endedAt),
      dedupeKey: `standing_access_expired:${access.sessionId}`,
      createdAt: access.endedAt,
    })),
  );
}
