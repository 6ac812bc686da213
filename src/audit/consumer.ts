import type { Bindings } from '../config.ts';
import { readConfig } from '../config.ts';
import { localBridgeOf, openDatabase } from '../db/client.ts';
import { createLogger, describeError } from '../http/logger.ts';
import { type AuditEvent, insertAuditEvents } from './audit-event.ts';

/** How long the queue waits before redelivering a batch the database refused. */
export const AUDIT_RETRY_DELAY_SECONDS = 10;

/**
 * The audit queue's consumer: one INSERT per batch. If the database cannot take it, the whole
 * batch is retried later (up to `max_retries` in wrangler.toml, then the dead-letter queue), so a
 * database blip delays audit rows instead of losing them.
 */
export async function consumeAuditBatch(batch: MessageBatch<AuditEvent>, env: Bindings): Promise<void> {
  const config = readConfig(env);
  const log = createLogger({ queue: batch.queue }, config.ok ? config.config.LOG_LEVEL : 'info');
  if (!config.ok) {
    log.error('config.invalid', { problems: config.problems });
    batch.retryAll({ delaySeconds: AUDIT_RETRY_DELAY_SECONDS });
    return;
  }
  const handle = openDatabase({ url: config.config.DATABASE_URL, wsProxy: localBridgeOf(config.config) });
  try {
    await insertAuditEvents(
      handle.db,
      batch.messages.map((message) => message.body),
    );
    batch.ackAll();
  } catch (error) {
    log.warn('audit.batch_retry', {
      messages: batch.messages.length,
      error: describeError(error),
    });
    batch.retryAll({ delaySeconds: AUDIT_RETRY_DELAY_SECONDS });
  } finally {
    await handle.end();
  }
}
