import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import { serviceAuditLogs, serviceRegistry } from '../../drizzle/schema.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { isStorableTime } from '../validation/operator-input.ts';

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
  action: string;
  success: boolean;
  code: string | null;
  requestId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
}

export class AuditQueryError extends Error {
  override name = 'AuditQueryError';
  readonly code = 'invalid_query';
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
  const conditions: SQL[] = [];
  if (query.service) conditions.push(eq(serviceRegistry.serviceIdentifier, query.service));
  if (query.userId) conditions.push(eq(serviceAuditLogs.userId, query.userId));
  if (query.action) conditions.push(eq(serviceAuditLogs.action, query.action));
  if (query.success !== undefined) conditions.push(eq(serviceAuditLogs.success, query.success));
  if (query.since) conditions.push(gte(serviceAuditLogs.createdAt, query.since));
  if (query.until) conditions.push(lt(serviceAuditLogs.createdAt, query.until));
  if (query.cursor) {
    const [at, id] = decodeCursor(query.cursor);
    conditions.push(
      or(
        lt(serviceAuditLogs.createdAt, at),
        and(eq(serviceAuditLogs.createdAt, at), lt(serviceAuditLogs.id, id)),
      ) as SQL,
    );
  }
  const rows = await db
    .select({
      id: serviceAuditLogs.id,
      at: serviceAuditLogs.createdAt,
      service: serviceRegistry.serviceIdentifier,
      userId: serviceAuditLogs.userId,
      action: serviceAuditLogs.action,
      success: serviceAuditLogs.success,
      metadata: serviceAuditLogs.metadata,
      ipAddress: serviceAuditLogs.ipAddress,
      userAgent: serviceAuditLogs.userAgent,
    })
    .from(serviceAuditLogs)
    .leftJoin(serviceRegistry, eq(serviceRegistry.id, serviceAuditLogs.serviceId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(serviceAuditLogs.createdAt), desc(serviceAuditLogs.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const entries = page.map(({ metadata, ...row }) => {
    const facts = (metadata ?? {}) as { code?: string; requestId?: string };
    return { ...row, code: facts.code ?? null, requestId: facts.requestId ?? null };
  });
  const last = page.at(-1);
  return { entries, nextCursor: rows.length > query.limit && last ? encodeCursor(last.at, last.id) : null };
}

function encodeCursor(at: Date, id: string): string {
  return toBase64Url(utf8(JSON.stringify([at.toISOString(), id])));
}

function decodeCursor(cursor: string): [Date, string] {
  const bytes = fromBase64Url(cursor);
  try {
    const [at, id] = JSON.parse(new TextDecoder().decode(bytes ?? new Uint8Array())) as [string, string];
    const date = new Date(at);
    // Only what this gateway can have issued: a time Postgres holds and the id of a row.
    if (typeof at !== 'string' || !isStorableTime(date) || typeof id !== 'string' || !UUID_PATTERN.test(id))
      throw new Error('bad');
    return [date, id];
  } catch {
    throw new AuditQueryError('The cursor is not one this gateway gave out; start from the first page.');
  }
}
