import { eq, sql } from 'drizzle-orm';
import { type NewServiceAuditLog, serviceAuditLogs, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';

export type NewAuditLogRow = NewServiceAuditLog & { id: string };

/** How much of the client address and of the user agent an audit row keeps. */
export const AUDIT_IP_ADDRESS_CHARS = 64;
export const AUDIT_USER_AGENT_CHARS = 512;

// Reading these rows, together with the change records, is findAuditRows (change-records.ts).

/**
 * Postgres text cannot hold NUL, and a path or header may carry one (`%00`); nor can JSON for
 * Postgres hold half a surrogate pair, which cutting a value to length can leave: without this the
 * whole batch would be refused and the attempts go unrecorded. Both become U+FFFD.
 */
function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

/**
 * Writes the rows in one statement. A row whose id is already there is skipped: a queue delivers
 * at least once, and a batch redelivered after a lost acknowledgement must not be written twice.
 * Text is made storable (no NUL), the client address and user agent cut to 64 and 512 characters.
 * The rows travel as one JSON parameter (`jsonb_to_recordset`) instead of ten parameters a row:
 * a batch of 100 was 1,000 values for the query builder and the driver to turn into text one by
 * one, on the audit consumer's every batch (docs/performance.md). Each column is read with the
 * table's own type, so a value is stored exactly as a parameter of that type would be.
 */
export async function insertAuditLogs(db: Queryable, rows: NewAuditLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((row) => ({
    id: row.id,
    service_id: row.serviceId ?? null,
    user_id: row.userId ?? null,
    action: storable(row.action),
    success: row.success,
    failure_reason: row.failureReason ?? null,
    ip_address: row.ipAddress == null ? null : storable(row.ipAddress.slice(0, AUDIT_IP_ADDRESS_CHARS)),
    user_agent: row.userAgent == null ? null : storable(row.userAgent.slice(0, AUDIT_USER_AGENT_CHARS)),
    metadata: row.metadata ?? null,
    created_at: (row.createdAt ?? new Date()).toISOString(),
  }));
  await db.execute(sql`
    insert into ${serviceAuditLogs}
      (id, service_id, user_id, action, success, failure_reason, ip_address, user_agent, metadata, created_at)
    select id, service_id, user_id, action, success, failure_reason, ip_address, user_agent, metadata, created_at
    from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as row(
      id uuid, service_id uuid, user_id uuid, action text, success boolean, failure_reason text,
      ip_address text, user_agent text, metadata jsonb, created_at timestamp(3)
    )
    on conflict (id) do nothing`);
}

/**
 * The gateway ids of the people carrying this GitHub login (case-insensitive, as GitHub compares
 * them; `users_github_login_lower_idx` serves it), in id order, at most `limit`.
 */
export async function findUserIdsByLogin(db: Database, login: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(sql`lower(${users.githubLogin})`, login.toLowerCase()))
    .orderBy(users.id)
    .limit(limit);
  return rows.map((row) => row.id);
}
