import type { Logger } from '../http/logger.ts';
import { describeError } from '../http/logger.ts';
import type { AuditEvent } from './audit-event.ts';

/**
 * How long an isolate collects audit events before sending them. Short: a request's `waitUntil`
 * lasts until its batch is sent, and a row should reach the log soon after its attempt.
 */
export const AUDIT_BATCH_WINDOW_MS = 5;
/** Cloudflare Queues: at most 100 messages per `sendBatch` call. */
export const AUDIT_BATCH_MAX_MESSAGES = 100;
/**
 * Cloudflare Queues: at most 256 KB (1 KB = 1000 bytes) per `sendBatch`, each message counting
 * up to ~100 bytes of metadata as well as its body; this leaves room below that limit.
 */
export const AUDIT_BATCH_MAX_BYTES = 240_000;
const MESSAGE_METADATA_BYTES = 100;

/** Where the request that sends a batch puts it: its queue binding, or its database directly. */
export interface AuditSink {
  queue: Queue | undefined;
  writeDirectly(events: AuditEvent[]): Promise<void>;
  log: Logger;
}

interface OpenBatch {
  events: AuditEvent[];
  bytes: number;
  /** Settles once the batch is sent or written (never rejects: a failure is logged). */
  done: Promise<void>;
  flush(sink: AuditSink): void;
}

/**
 * Collects one isolate's audit events and sends them in batches: one `sendBatch` per window
 * instead of one `send` per attempt. Every event's promise settles only once its batch is sent,
 * and the request that recorded it waits for that in `waitUntil`, so the isolate is kept alive
 * until the batch holding its last request's event has left. A batch the queue refuses is sent
 * once more, then written directly to the database, as the no-queue path writes: never dropped.
 */
export class AuditBatcher {
  #open: OpenBatch | undefined;
  readonly #windowMs: number;

  constructor(windowMs = AUDIT_BATCH_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** Adds one event; the promise settles when the batch holding it is sent (or written). */
  add(event: AuditEvent, sink: AuditSink): Promise<void> {
    const bytes = jsonBytesAtMost(event) + MESSAGE_METADATA_BYTES;
    const waits: Promise<void>[] = [];
    const current = this.#open;
    if (current && current.bytes + bytes > AUDIT_BATCH_MAX_BYTES) {
      // This request sends the full batch, so its own waitUntil (and database handle) covers it.
      waits.push(current.done);
      current.flush(sink);
    }
    const batch = this.#open ?? this.#start(sink);
    batch.events.push(event);
    batch.bytes += bytes;
    waits.push(batch.done);
    if (batch.events.length >= AUDIT_BATCH_MAX_MESSAGES) batch.flush(sink);
    return waits.length === 1 ? batch.done : Promise.all(waits).then(() => undefined);
  }

  /** Opens a batch whose window is timed by the request that opened it (its waitUntil outlives it). */
  #start(opener: AuditSink): OpenBatch {
    let settle: () => void = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    let flushed = false;
    const batch: OpenBatch = {
      events: [],
      bytes: 0,
      done: new Promise<void>((resolve) => {
        settle = resolve;
      }),
      flush: (sink) => {
        if (flushed) return;
        flushed = true;
        if (timer !== undefined) clearTimeout(timer);
        if (this.#open === batch) this.#open = undefined;
        deliver(batch.events, sink).finally(settle);
      },
    };
    this.#open = batch;
    timer = setTimeout(() => batch.flush(opener), this.#windowMs);
    return batch;
  }
}

/**
 * At least the size of the event's JSON in UTF-8, without serializing it on every request (that
 * was the largest frame of the audit record in the warm verify's profile): a string's UTF-16 unit
 * takes at most 6 bytes in JSON (`\u001f`; a non-ASCII one at most 3), and the ten keys with their
 * quotes, punctuation, booleans and nulls under 256.
 */
export function jsonBytesAtMost(event: AuditEvent): number {
  let bytes = 256;
  for (const value of Object.values(event)) {
    if (typeof value === 'string') bytes += 6 * value.length;
  }
  return bytes;
}

/** Sends a batch to the queue (twice at most), else writes it directly; logs what could not be done. */
async function deliver(events: AuditEvent[], sink: AuditSink): Promise<void> {
  const queue = sink.queue;
  if (queue) {
    const messages = events.map((body) => ({ body }));
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        await queue.sendBatch(messages);
        return;
      } catch (error) {
        sink.log.warn('audit.batch_send_failed', { attempt, messages: events.length, error: describeError(error) });
      }
    }
  }
  try {
    await sink.writeDirectly(events);
  } catch (error) {
    // Nothing is left to try: the count says how many rows the log is missing.
    sink.log.error('audit.batch_lost', {
      messages: events.length,
      requestIds: events.map((event) => event.requestId),
      error: describeError(error),
    });
  }
}
