import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { type AuditLogRow, findAuditLogs } from '../db/audit-logs.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { findServiceIdentifierState } from '../db/services.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { UnknownServiceError } from '../services/admin.ts';
import { escapeControl } from '../validation/control-characters.ts';
import { isStorableTime } from '../validation/operator-input.ts';
import { isRecordedAction, ROUTE_AUDIT_ACTIONS } from './actions.ts';

export interface AuditQuery {
  service?: string;
  userId?: string;
  action?: string;
  success?: boolean;
  since?: Date;
  until?: Date;
  limit: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
}

export interface AuditEntry {
  id: string;
  at: Date;
  service: string | null;
  userId: string | null;
  /** The person's GitHub login at their last sign-in (from the users table); null when unknown. */
  userLogin: string | null;
  action: string;
  success: boolean;
  code: string | null;
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
}

/** An audit query out of bounds (HTTP 400, exit 2). */
export class AuditQueryError extends GatewayError<'invalid_query'> {
  constructor(message: string) {
    super('invalid_query', 'input', message);
  }
}

/** Newest first, by (created_at, id), with an opaque cursor for the next page. */
export async function queryAudit(
  db: Database,
  query: AuditQuery,
): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500)
    throw new AuditQueryError('limit is 1 to 500.');
  // Checked before the query: Postgres would answer these with an error, not an empty page.
  for (const [name, time] of [
    ['since', query.since],
    ['until', query.until],
  ] as const) {
    if (time && !isStorableTime(time)) throw new AuditQueryError(`${name} must be a time from 1970 to 9999.`);
  }
  if (query.userId !== undefined && !UUID_PATTERN.test(query.userId.toLowerCase()))
    throw new AuditQueryError('The user id is a UUID, e.g. 0b6f3a1e-7c2d-4e8f-9a10-2b3c4d5e6f70.');
  // A filter that names nothing would answer an empty page, which reads as "nothing happened".
  if (query.action !== undefined && !isRecordedAction(query.action))
    throw new AuditQueryError(
      `There is no audit action "${escapeControl(query.action)}". Actions: ${ROUTE_AUDIT_ACTIONS.join(', ')}, or other:<METHOD> <path> for a path no route serves.`,
    );
  if (query.service !== undefined && !(await findServiceIdentifierState(db, query.service)))
    throw new UnknownServiceError(query.service);
  const rows = await findAuditLogs(
    db,
    {
      serviceIdentifier: query.service,
      userId: query.userId,
      action: query.action,
      success: query.success,
      since: query.since,
      until: query.until,
      olderThan: query.cursor ? decodeCursor(query.cursor) : undefined,
    },
    query.limit + 1,
  );
  const page = rows.slice(0, query.limit);
  const entries = page.map(toEntry);
  const last = page.at(-1);
  return { entries, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** The row as operators read it: the outcome code and request id come out of its metadata. */
function toEntry(row: AuditLogRow): AuditEntry {
  const facts = (row.metadata ?? {}) as { code?: string; requestId?: string };
  return {
    id: row.id,
    at: row.createdAt,
    service: row.serviceIdentifier,
    userId: row.userId,
    userLogin: row.userLogin,
    action: row.action,
    success: row.success,
    ipAddress: row.ipAddress,
    userAgent: row.userAgent,
    code: facts.code ?? null,
    requestId: facts.requestId ?? null,
  };
}

function encodeCursor(at: Date, id: string): string {
  return toBase64Url(utf8(JSON.stringify([at.toISOString(), id])));
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const bytes = fromBase64Url(cursor);
  try {
    const [at, id] = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as [string, string];
    const date = new Date(at);
    // Only what this gateway can have issued: a time Postgres holds and the id of a row.
    if (typeof at !== 'string' || !isStorableTime(date) || typeof id !== 'string' || !UUID_PATTERN.test(id))
      throw new Error('bad');
    return { createdAt: date, id };
  } catch {
    throw new AuditQueryError('The cursor is not one this gateway gave out; start from the first page.');
  }
}
