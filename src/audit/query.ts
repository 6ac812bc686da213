import { type AuditKind, CHANGE_ACTIONS, isChangeRecordAction, SIGN_IN_ACTIONS } from '../changes/actions.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { type AuditRow, findAuditRows } from '../db/change-records.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { findServiceIdentifierState } from '../db/services.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { UnknownServiceError } from '../services/admin.ts';
import { escapeControl } from '../validation/control-characters.ts';
import { isStorableTime } from '../validation/operator-input.ts';
import { isRecordedAction, ROUTE_AUDIT_ACTIONS } from './actions.ts';

export interface AuditQuery {
  /** Only these kinds of entry: service access attempts, changes, sign-ins and sign-outs. All when absent. */
  kinds?: readonly AuditKind[];
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

/** Who made a change: an operator (by name), a service (the admin API) or a person (signing in or out). */
export type AuditActor =
  | { kind: 'operator'; name: string | null }
  | { kind: 'service'; service: string | null }
  | { kind: 'person'; userId: string | null; userLogin: string | null }
  | { kind: 'gateway' };

export interface AuditEntry {
  id: string;
  at: Date;
  /** `access`: a service's call (service_audit_logs); `change` or `sign-in`: a change record. */
  kind: AuditKind;
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
  /** Changes and sign-ins only (null on access rows, whose actor is `service`). */
  actor: AuditActor | null;
  /** A command's host. */
  host: string | null;
  /** What else the change said: never a secret. */
  details: Record<string, unknown> | null;
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
  if (query.action !== undefined && !isRecordedAction(query.action) && !isChangeRecordAction(query.action))
    throw new AuditQueryError(
      `There is no audit action "${escapeControl(query.action)}". Actions: ${[...ROUTE_AUDIT_ACTIONS, ...CHANGE_ACTIONS, ...SIGN_IN_ACTIONS].join(', ')}, or other:<METHOD> <path> for a path no route serves.`,
    );
  if (query.service !== undefined && !(await findServiceIdentifierState(db, query.service)))
    throw new UnknownServiceError(query.service);
  const rows = await findAuditRows(
    db,
    {
      ...(query.kinds ? { kinds: query.kinds } : {}),
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

/** The row as operators read it: who acted, for a change or sign-in. */
function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.createdAt,
    kind: row.kind,
    service: row.serviceIdentifier,
    userId: row.userId,
    userLogin: row.userLogin,
    action: row.action,
    success: row.success,
    code: row.code,
    requestId: row.requestId,
    ipAddress: row.ipAddress,
    userAgent: row.userAgent,
    actor: actorOf(row),
    host: row.host,
    details: row.details,
  };
}

function actorOf(row: AuditRow): AuditActor | null {
  switch (row.actorKind) {
    case 'operator':
      return { kind: 'operator', name: row.actorName };
    case 'service':
      return { kind: 'service', service: row.actorServiceIdentifier };
    case 'person':
      return { kind: 'person', userId: row.actorUserId, userLogin: row.actorLogin };
    case 'gateway':
      return { kind: 'gateway' };
    default:
      return null;
  }
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
