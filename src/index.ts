import { createApp } from './app.ts';
import type { AuditEvent } from './audit/audit-event.ts';
import { consumeAuditBatch } from './audit/consumer.ts';
import type { Bindings } from './config.ts';
import { consumeEventsBatch, EVENTS_QUEUE_NAME } from './events/consumer.ts';
import type { EventsQueueMessage } from './events/start-delivery.ts';
import { runEventsSweep } from './events/sweep.ts';

// Built once per isolate, so routing tables are compiled once and shared by every request.
const app = createApp();

export default {
  fetch: app.fetch,
  // Two queues, one handler: each batch names the queue it came from (wrangler.toml).
  queue: (batch, env, _ctx) =>
    batch.queue === EVENTS_QUEUE_NAME
      ? consumeEventsBatch(batch as MessageBatch<EventsQueueMessage>, env)
      : consumeAuditBatch(batch as MessageBatch<AuditEvent>, env),
  // The cron trigger (once a minute): the events sweep, at the minute it was scheduled for.
  scheduled: (controller, env, ctx) => ctx.waitUntil(runEventsSweep(env, new Date(controller.scheduledTime))),
} satisfies ExportedHandler<Bindings>;
