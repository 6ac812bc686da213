import { createApp } from './app.ts';
import type { AuditEvent } from './audit/audit-event.ts';
import { consumeAuditBatch } from './audit/consumer.ts';
import type { Bindings } from './config.ts';

// Built once per isolate, so routing tables are compiled once and shared by every request.
const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env, _ctx) => consumeAuditBatch(batch as MessageBatch<AuditEvent>, env),
} satisfies ExportedHandler<Bindings>;
