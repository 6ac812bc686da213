import type { Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { describeError } from '../http/logger.ts';
import { type DeliveryDeps, deliverEvent } from './deliver.ts';
import { DELIVERIES_IN_FLIGHT, runPooled } from './pool.ts';

/** What the events queue carries: the outbox row to attempt (the row keeps everything else). */
export interface EventsQueueMessage {
  eventId: string;
}

/**
 * Starts the delivery of events just committed: through EVENTS_QUEUE when bound (the consumer
 * attempts them, and retries on schedule), else a first attempt right here; either way the
 * sweep finds any that are left (src/events/sweep.ts). Never throws: a failure here only delays.
 */
export async function startDelivery(
  target: { queue?: Queue | undefined; deps: DeliveryDeps },
  eventIds: string[],
): Promise<void> {
  if (eventIds.length === 0) return;
  try {
    if (target.queue) {
      await target.queue.sendBatch(eventIds.map((eventId) => ({ body: { eventId } satisfies EventsQueueMessage })));
      return;
    }
    await deliverPooled(target.deps, eventIds);
  } catch (error) {
    target.deps.log.warn('events.delivery_deferred', { events: eventIds.length, error: describeError(error) });
  }
}

/**
 * Attempts these events here, at most DELIVERIES_IN_FLIGHT at once (the others wait their turn
 * without their delivery timeout running); one that cannot be attempted is logged and left to the
 * sweep. `dueAt` decides only what is due (the sweep's scheduled time).
 */
export async function deliverPooled(deps: DeliveryDeps, eventIds: string[], dueAt?: Date): Promise<void> {
  const outcomes = await runPooled(eventIds, DELIVERIES_IN_FLIGHT, (eventId) => deliverEvent(deps, eventId, dueAt));
  for (const [index, outcome] of outcomes.entries())
    if (outcome.status === 'rejected')
      deps.log.warn('events.attempt_failed', { eventId: eventIds[index], error: describeError(outcome.reason) });
}

/** The request's way to start delivery: after the response, on the request's database pool. */
export function deliverAfterResponse(c: Context<AppEnv>, eventIds: string[]): void {
  if (eventIds.length === 0) return;
  c.var.background(startDelivery({ queue: c.env.EVENTS_QUEUE, deps: deliveryDeps(c) }, eventIds));
}

export function deliveryDeps(c: Context<AppEnv>): DeliveryDeps {
  return { db: c.var.database(), keyring: c.var.tokenKeyring, log: c.var.log };
}
