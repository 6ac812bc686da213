import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { generateEventsSecret, sealEventsSecret } from '../crypto/events-secret.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import {
  type DeliveryRow,
  findDeliveries,
  findEventsEndpointState,
  giveUpUndeliveredEvents,
  lockEventsEndpoint,
  writeEventsEndpoint,
} from '../db/service-event-endpoints.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { escapeControl } from '../validation/control-characters.ts';
import { checkEventsUrl } from '../validation/events-url.ts';
import { isStorableTime } from '../validation/operator-input.ts';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS, UnknownServiceError } from './admin.ts';
import { type EventsSummary, eventsSummaryOf } from './events-summary.ts';
import { ServiceInputError } from './register-service.ts';

/**
 * Registering where a service's events go (docs/api.md, "Events pushed to your service"): set its
 * URL (the first time, with a new signing secret, shown once), clear it, rotate the secret with a
 * grace period, and read its state and delivery records. Each change is written with its change
 * record in one transaction; the secret is kept only sealed (src/crypto/events-secret.ts) and
 * never reaches a record, a log or a listing.
 */

function validUrl(url: string): string {
  const checked = checkEventsUrl(url);
  if ('problem' in checked) throw new ServiceInputError(checked.problem);
  return checked.url;
}

/**
 * Sets the service's events URL. A service that had no secret gets one now, returned this once;
 * one that had one keeps it (null returned), so changing the URL does not break its verification.
 */
export async function setEventsUrl(
  db: Database,
  keyring: TokenKeyring,
  identifier: string,
  url: string,
  origin: ChangeOrigin,
): Promise<{ events: EventsSummary; secret: string | null }> {
  const eventsUrl = validUrl(url);
  const secret = await db.transaction(async (tx) => {
    const row = await lockEventsEndpoint(tx, identifier);
    if (!row) throw new UnknownServiceError(identifier);
    const fresh = row.eventsSecret === null ? generateEventsSecret() : null;
    await writeEventsEndpoint(tx, row.id, {
      eventsUrl,
      ...(fresh ? { eventsSecret: await sealEventsSecret(fresh, keyring, row.id) } : {}),
    });
    // The URL and whether a secret was made, never the secret.
    await recordChange(tx, origin, {
      action: 'services:events-set',
      subjectServiceId: row.id,
      details: { url: eventsUrl, previous_url: row.eventsUrl, secret_made: fresh !== null },
    });
    return fresh;
  });
  return { events: await currentEvents(db, identifier), secret };
}

/**
 * No more events for the service: its URL and secrets are dropped (a later `set` makes a new
 * secret), and its undelivered events are given up, kept with their attempts for the record.
 */
export async function clearEvents(
  db: Database,
  identifier: string,
  origin: ChangeOrigin,
  now = new Date(),
): Promise<{ hadUrl: boolean; givenUp: number }> {
  return db.transaction(async (tx) => {
    const row = await lockEventsEndpoint(tx, identifier);
    if (!row) throw new UnknownServiceError(identifier);
    await writeEventsEndpoint(tx, row.id, {
      eventsUrl: null,
      eventsSecret: null,
      eventsPreviousSecret: null,
      eventsPreviousSecretExpiresAt: null,
      eventsFailingSince: null,
    });
    const givenUp = await giveUpUndeliveredEvents(tx, row.id, now);
    await recordChange(tx, origin, {
      action: 'services:events-clear',
      subjectServiceId: row.id,
      details: { url: row.eventsUrl, given_up: givenUp },
    });
    return { hadUrl: row.eventsUrl !== null, givenUp };
  });
}

/**
 * The service's previous events secret is still signing: rotating again would drop it at once,
 * breaking the promise the last rotation made (as a key rotation, src/services/admin.ts).
 */
export class EventsRotationInProgressError extends GatewayError<'rotation_in_progress'> {
  readonly endsAt: Date;

  constructor(identifier: string, endsAt: Date) {
    super(
      'rotation_in_progress',
      'conflict',
      `${escapeControl(identifier)} is in an events secret rotation: its previous secret also signs until ${endsAt.toISOString()}. ` +
        'Rotating again now would drop that secret at once.',
    );
    this.endsAt = endsAt;
  }
}

/**
 * A new events secret, returned this once. For `graceSeconds` (0: none) the old one signs too
 * (every delivery carries both signatures), so the service can switch without refusing one.
 * Refused during an earlier rotation's grace period unless `force`, which drops that older secret.
 */
export async function rotateEventsSecret(
  db: Database,
  keyring: TokenKeyring,
  identifier: string,
  graceSeconds = DEFAULT_GRACE_SECONDS,
  now = new Date(),
  { force = false, origin }: { force?: boolean; origin: ChangeOrigin },
): Promise<{ secret: string; previousSecretExpiresAt: Date | null }> {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS)
    throw new ServiceInputError(
      `The grace period is a whole number of seconds, at most ${MAX_GRACE_SECONDS} (${MAX_GRACE_SECONDS / 86_400} days).`,
    );
  const secret = generateEventsSecret();
  const previousSecretExpiresAt = graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000) : null;
  await db.transaction(async (tx) => {
    const row = await lockEventsEndpoint(tx, identifier);
    if (!row) throw new UnknownServiceError(identifier);
    if (row.eventsUrl === null || row.eventsSecret === null)
      throw new ServiceInputError(
        `${escapeControl(identifier)} has no events URL, so no secret to rotate; set its URL first (it makes the secret).`,
      );
    const graceEndsAt = row.eventsPreviousSecret === null ? null : row.eventsPreviousSecretExpiresAt;
    if (graceEndsAt && graceEndsAt.getTime() > now.getTime() && !force)
      throw new EventsRotationInProgressError(identifier, graceEndsAt);
    await writeEventsEndpoint(tx, row.id, {
      eventsSecret: await sealEventsSecret(secret, keyring, row.id),
      // Moved as stored: sealed for this very row, it needs no re-sealing.
      eventsPreviousSecret: previousSecretExpiresAt ? row.eventsSecret : null,
      eventsPreviousSecretExpiresAt: previousSecretExpiresAt,
    });
    await recordChange(tx, origin, {
      action: 'services:events-rotate-secret',
      subjectServiceId: row.id,
      details: {
        grace_seconds: graceSeconds,
        force,
        previous_secret_expires_at: previousSecretExpiresAt?.toISOString() ?? null,
      },
    });
  });
  return { secret, previousSecretExpiresAt };
}

/** The events as a set just left them (unknown if the service was deleted or cleared meanwhile). */
async function currentEvents(db: Database, identifier: string): Promise<EventsSummary> {
  const state = await findEventsEndpointState(db, identifier);
  const events = state ? eventsSummaryOf(state) : null;
  if (!events) throw new UnknownServiceError(identifier);
  return events;
}

/** An event as `events show` and `/events/deliveries` list it. */
export interface Delivery {
  /** Its `webhook-id`: `msg_` and the row id's 32 hex digits. */
  id: string;
  type: string;
  createdAt: Date;
  attempts: number;
  deliveredAt: Date | null;
  givenUpAt: Date | null;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: Date | null;
  lastAttempt: DeliveryRow['lastAttempt'];
}

export const DEFAULT_DELIVERIES_PAGE = 50;
export const MAX_DELIVERIES_PAGE = 500;

export class DeliveriesQueryError extends GatewayError<'invalid_query'> {
  constructor(message: string) {
    super('invalid_query', 'input', message);
  }
}

/** The service's events state, its previous secret's end, and a page of its deliveries, newest first. */
export async function showEvents(
  db: Database,
  identifier: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<{
  events: EventsSummary | null;
  previousSecretExpiresAt: Date | null;
  deliveries: Delivery[];
  nextCursor: string | null;
}> {
  const limit = page.limit ?? DEFAULT_DELIVERIES_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES_PAGE)
    throw new DeliveriesQueryError(`limit is 1 to ${MAX_DELIVERIES_PAGE}.`);
  const olderThan = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const state = await findEventsEndpointState(db, identifier);
  if (!state) throw new UnknownServiceError(identifier);
  const rows = await findDeliveries(db, state.id, { limit: limit + 1, ...(olderThan ? { olderThan } : {}) });
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    events: eventsSummaryOf(state),
    previousSecretExpiresAt: state.hasPreviousSecret ? state.eventsPreviousSecretExpiresAt : null,
    deliveries: shown.map(toDelivery),
    nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: `msg_${row.id.replaceAll('-', '')}`,
    type: row.type,
    createdAt: row.createdAt,
    attempts: row.attempts,
    deliveredAt: row.deliveredAt,
    givenUpAt: row.givenUpAt,
    nextAttemptAt: row.deliveredAt || row.givenUpAt ? null : row.nextAttemptAt,
    lastAttempt: row.lastAttempt,
  };
}

/** JSON of docs/api.md's `/events/deliveries`. */
export function deliveryJson(delivery: Delivery) {
  const last = delivery.lastAttempt;
  return {
    id: delivery.id,
    type: delivery.type,
    created_at: delivery.createdAt.toISOString(),
    attempts: delivery.attempts,
    delivered_at: delivery.deliveredAt?.toISOString() ?? null,
    given_up_at: delivery.givenUpAt?.toISOString() ?? null,
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
    last_attempt: last
      ? { at: last.at.toISOString(), status: last.status, error: last.error, duration_ms: last.durationMs }
      : null,
  };
}

// The cursor is the audit log's kind: the last row's (created_at, id), opaque to the caller.
function encodeCursor(at: Date, id: string): string {
  return toBase64Url(utf8(JSON.stringify([at.toISOString(), id])));
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const bytes = fromBase64Url(cursor);
    const [at, id] = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as [unknown, unknown];
    if (typeof at !== 'string' || typeof id !== 'string' || !UUID_PATTERN.test(id)) throw new Error('bad');
    const date = new Date(at);
    if (!isStorableTime(date)) throw new Error('bad');
    return { createdAt: date, id };
  } catch {
    throw new DeliveriesQueryError('The cursor is not one this gateway gave out; start from the first page.');
  }
}
