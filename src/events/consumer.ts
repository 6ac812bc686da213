import type { Bindings } from '../config.ts';
import { readConfig } from '../config.ts';
import { createLogger, describeError } from '../http/logger.ts';
import { type DeliveryOutcome, deliverEvent } from './deliver.ts';
import { withDeliveryDeps } from './delivery-deps.ts';
import { DELIVERIES_IN_FLIGHT, runPooled } from './pool.ts';
import type { EventsQueueMessage } from './start-delivery.ts';

/** The queue's name in wrangler.toml: the Worker's `queue` handler sends its batches here. */
export const EVENTS_QUEUE_NAME = 'gateway-events';
/** How long the queue waits before redelivering a message whose attempt could not run (the database). */
export const EVENTS_RETRY_DELAY_SECONDS = 10;
/** The longest delay a queue message can be given (Cloudflare Queues: 12 hours). */
const MAX_QUEUE_DELAY_SECONDS = 43_200;

/**
 * The events queue's consumer: one attempt per message, at most DELIVERIES_IN_FLIGHT of a batch
 * at once (wrangler.toml's max_batch_size is that too: a slow service's hanging delivery never
 * makes a healthy one's time out in the connection queue). A delivered, given-up or already-finished event is acked; a failed
 * one is retried with the delay until its next scheduled attempt, so the queue carries the
 * schedule the database keeps (and the sweep finds whatever the queue drops).
 */
export async function consumeEventsBatch(
  batch: MessageBatch<EventsQueueMessage>,
  env: Bindings,
  now: () => Date = () => new Date(),
): Promise<void> {
  const config = readConfig(env);
  const log = createLogger({ queue: batch.queue }, config.ok ? config.config.LOG_LEVEL : 'info');
  if (!config.ok) {
    log.error('config.invalid', { problems: config.problems });
    batch.retryAll({ delaySeconds: EVENTS_RETRY_DELAY_SECONDS });
    return;
  }
  await withDeliveryDeps(config.config, log, (deps) =>
    // A few at a time (src/events/pool.ts): a message waiting its turn has no timeout running.
    runPooled(batch.messages, DELIVERIES_IN_FLIGHT, async (message) => {
      try {
        settle(message, await deliverEvent(deps, message.body.eventId, now()));
      } catch (error) {
        log.warn('events.message_retry', { eventId: message.body.eventId, error: describeError(error) });
        message.retry({ delaySeconds: EVENTS_RETRY_DELAY_SECONDS });
      }
    }),
  );
}

/** Acks the message, or retries it when its event's next attempt comes (counted from the clock now). */
function settle(message: Message<EventsQueueMessage>, outcome: DeliveryOutcome): void {
  if (outcome.kind === 'failed' || outcome.kind === 'not_due') {
    const seconds = Math.ceil((outcome.nextAttemptAt.getTime() - Date.now()) / 1000);
    message.retry({ delaySeconds: Math.min(Math.max(seconds, 1), MAX_QUEUE_DELAY_SECONDS) });
    return;
  }
  message.ack();
}
