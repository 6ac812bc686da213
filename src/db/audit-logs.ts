import { eq, sql } from 'drizzle-orm';
import { type NewServiceAuditLog, serviceAuditLogs, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';

export type NewAuditLogRow = NewServiceAuditLog & { id: string };

// Reading these rows, together with the change records, is findAuditRows (change-records.ts).

/**
 * Postgres text cannot hold NUL, and a path or header may carry one (`%00`): without this the
 * whole batch would be refused and the attempt go unrecorded.
 */
function storable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}

/**
 * Writes the rows in one statement. A row whose id is already there is skipped: a queue delivers
 * at least once, and a batch redelivered after a lost acknowledgement must not be written twice.
 * Text is made storable (no NUL), the client address and user agent cut to 64 and 512 characters.
 */
export async function insertAuditLogs(db: Queryable, rows: NewAuditLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(serviceAuditLogs)
    .values(
      rows.map((row) => ({
        ...row,
        action: storable(row.action),
        ipAddress: row.ipAddress == null ? null : storable(row.ipAddress.slice(0, 64)),
        userAgent: row.userAgent == null ? null : storable(row.userAgent.slice(0, 512)),
      })),
    )
    .onConflictDoNothing({ target: serviceAuditLogs.id });
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
