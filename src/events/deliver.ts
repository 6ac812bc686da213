import { eventsSecretKeyBytes, openEventsSecret } from '../crypto/events-secret.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Queryable } from '../db/client.ts';
import { type ClaimedEvent, claimEvent, giveUpEvent, recordAttempt } from '../db/service-events.ts';
import { describeError, type Logger } from '../http/logger.ts';
import { nextAttemptAfter } from './schedule.ts';
import { webhookSignature } from './sign.ts';
import { webhookId } from './webhook-id.ts';

/** A 2xx within this long is a delivery; longer is a failed attempt (`timeout`). */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** How long a claim holds an event: past the timeout and the writes after it, so a dead attempt is due again. */
const CLAIM_LEASE_MS = 30_000;

export interface DeliveryDeps {
  db: Queryable;
  keyring: () => Promise<TokenKeyring>;
  log: Logger;
}

export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'failed'; nextAttemptAt: Date }
  | { kind: 'given_up' }
  /** Not due yet (or another attempt holds it): try at `nextAttemptAt`. */
  | { kind: 'not_due'; nextAttemptAt: Date }
  /** Delivered or given up already, or gone. */
  | { kind: 'done' };

/**
 * One attempt at an event: claim it (so no one else sends it meanwhile), sign it with the
 * service's secret (and the previous one during its grace period), POST it without following a
 * redirect, and record what came of it. `dueAt` only decides whether it is due (the sweep passes
 * its scheduled time); the lease, the signature's timestamp and the attempt's time are the clock's
 * at that moment, so a late sweep neither signs a stale `webhook-timestamp` nor holds a short lease.
 */
export async function deliverEvent(deps: DeliveryDeps, eventId: string, dueAt = new Date()): Promise<DeliveryOutcome> {
  const claim = await claimEvent(deps.db, eventId, dueAt, new Date(Date.now() + CLAIM_LEASE_MS));
  if (claim.kind !== 'claimed') return claim;
  const event = claim.event;
  let signed: Signed;
  try {
    signed = await sign(deps, event);
  } catch (error) {
    // The secret does not open (TOKEN_ENCRYPTION_KEY changed without its previous key kept), or
    // signing failed: an attempt that failed, on the schedule like any other, never a loop.
    deps.log.warn('events.secret_unreadable', { eventId, serviceId: event.serviceId, error: describeError(error) });
    return finish(deps, event, { status: null, error: 'secret_unreadable' }, new Date(), 0);
  }
  if (!event.url || signed.keys.length === 0) {
    // Nowhere to send it, or nothing to sign it with: it can never be delivered as it stands.
    deps.log.warn('events.undeliverable', { eventId, serviceId: event.serviceId });
    await giveUpEvent(deps.db, eventId, signed.at);
    return { kind: 'given_up' };
  }
  const started = Date.now();
  const answer = await post(event.url, event.body, signed.headers);
  return finish(deps, event, answer, signed.at, Date.now() - started);
}

interface Signed {
  keys: Uint8Array<ArrayBuffer>[];
  headers: Record<string, string>;
  at: Date;
}

/** The event's headers, signed now (the clock at the POST). */
async function sign(deps: DeliveryDeps, event: ClaimedEvent): Promise<Signed> {
  const at = new Date();
  const keys = event.url ? await signingKeys(deps, event, at) : [];
  if (keys.length === 0) return { keys, headers: {}, at };
  const id = webhookId(event.id);
  const timestamp = Math.floor(at.getTime() / 1000);
  const signature = await webhookSignature({ id, timestamp, body: event.body }, keys);
  return {
    keys,
    headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
    at,
  };
}

/** Records the attempt made at `attemptedAt` and says what comes next. */
async function finish(
  deps: DeliveryDeps,
  event: ClaimedEvent,
  answer: { status: number | null; error: string | null },
  attemptedAt: Date,
  durationMs: number,
): Promise<DeliveryOutcome> {
  const attempts = event.attempts + 1;
  const delivered = answer.error === null;
  const nextAttemptAt = delivered ? null : nextAttemptAfter(attempts, attemptedAt);
  await recordAttempt(deps.db, {
    eventId: event.id,
    serviceId: event.serviceId,
    attemptedAt,
    status: answer.status,
    error: answer.error,
    durationMs,
    delivered,
    attempts,
    nextAttemptAt,
  });
  if (delivered) return { kind: 'delivered' };
  return nextAttemptAt ? { kind: 'failed', nextAttemptAt } : { kind: 'given_up' };
}

/** The HMAC keys to sign with: the current secret, then the previous one while its grace period runs. */
async function signingKeys(deps: DeliveryDeps, event: ClaimedEvent, now: Date): Promise<Uint8Array<ArrayBuffer>[]> {
  const sealed = [event.secret];
  if (event.previousSecret && event.previousSecretExpiresAt && event.previousSecretExpiresAt > now)
    sealed.push(event.previousSecret);
  const keyring = await deps.keyring();
  const keys: Uint8Array<ArrayBuffer>[] = [];
  for (const stored of sealed) {
    if (!stored) continue;
    const bytes = eventsSecretKeyBytes((await openEventsSecret(stored, keyring, event.serviceId)).plaintext);
    if (bytes) keys.push(bytes);
  }
  return keys;
}

/** What the events URL answered: its status, and why it is not a delivery (null: it is). */
async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number | null; error: string | null }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { status: null, error: timedOut ? 'timeout' : 'connection_failed' };
  }
  // The body is never read: only the status counts, and the connection is let go at once.
  await response.body?.cancel().catch(() => {});
  const { status } = response;
  if (status >= 200 && status < 300) return { status, error: null };
  if (status >= 300 && status < 400) return { status, error: `redirect ${status} (not followed)` };
  return { status, error: `status ${status}` };
}
