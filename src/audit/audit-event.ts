import { insertAuditLogs } from '../db/audit-logs.ts';
import type { Queryable } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';

/**
 * One service access attempt, allowed or refused. Names, ids and codes only: never a key, a
 * token or a session string.
 */
export interface AuditEvent {
  /**
   * The row's id, chosen when the attempt happens: a queue delivers at least once, and a batch
   * redelivered after a lost acknowledgement must not write its rows twice.
   */
  id: string;
  /** When the attempt happened (ISO 8601), not when the row was written. */
  at: string;
  serviceId: string | null;
  userId: string | null;
  action: string;
  success: boolean;
  /** The outcome code (`ok`, or why not). */
  code: string;
  requestId: string;
  ipAddress: string | null;
  userAgent: string | null;
}

/** Writes audit events in one statement (the queue consumer's batch, or one direct write). */
export async function insertAuditEvents(db: Queryable, events: AuditEvent[]): Promise<void> {
  await insertAuditLogs(
    db,
    events.map((event) => ({
      id: event.id,
      serviceId: event.serviceId,
      // A user id that is not a UUID (a caller's malformed input) is kept out of the foreign key.
      userId: event.userId && UUID_PATTERN.test(event.userId) ? event.userId : null,
      action: event.action,
      success: event.success,
      failureReason: event.success ? null : event.code,
      ipAddress: event.ipAddress,
      userAgent: event.userAgent,
      metadata: { code: event.code, requestId: event.requestId },
      createdAt: new Date(event.at),
    })),
  );
}
