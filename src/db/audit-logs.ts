import { and, desc, eq, gte, lt, or, type SQL, sql } from 'drizzle-orm';
import {
  type NewServiceAuditLog,
  type ServiceAuditLog,
  serviceAuditLogs,
  serviceRegistry,
  users,
} from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';

export type NewAuditLogRow = NewServiceAuditLog & { id: string };

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

export interface AuditLogFilter {
  serviceIdentifier?: string;
  userId?: string;
  action?: string;
  success?: boolean;
  since?: Date;
  until?: Date;
  /** Only rows older than this one, in (created_at, id) order: where the previous page ended. */
  olderThan?: { createdAt: Date; id: string };
}

export type AuditLogRow = Pick<
  ServiceAuditLog,
  'id' | 'createdAt' | 'userId' | 'action' | 'success' | 'metadata' | 'ipAddress' | 'userAgent'
> & {
  /** The service's identifier; null when the key matched no service. */
  serviceIdentifier: string | null;
  /** The person's GitHub login at their last sign-in; null with no user or a login not known. */
  userLogin: string | null;
};

/** Rows matching every condition given, newest first by (created_at, id), at most `limit`. */
export async function findAuditLogs(db: Database, filter: AuditLogFilter, limit: number): Promise<AuditLogRow[]> {
  const conditions: SQL[] = [];
  if (filter.serviceIdentifier) conditions.push(eq(serviceRegistry.serviceIdentifier, filter.serviceIdentifier));
  if (filter.userId) conditions.push(eq(serviceAuditLogs.userId, filter.userId));
  if (filter.action) conditions.push(eq(serviceAuditLogs.action, filter.action));
  if (filter.success !== undefined) conditions.push(eq(serviceAuditLogs.success, filter.success));
  if (filter.since) conditions.push(gte(serviceAuditLogs.createdAt, filter.since));
  if (filter.until) conditions.push(lt(serviceAuditLogs.createdAt, filter.until));
  if (filter.olderThan) {
    const { createdAt, id } = filter.olderThan;
    conditions.push(
      or(
        lt(serviceAuditLogs.createdAt, createdAt),
        and(eq(serviceAuditLogs.createdAt, createdAt), lt(serviceAuditLogs.id, id)),
      ) as SQL,
    );
  }
  // The people's logins come in the same statement, never a lookup per row.
  return db
    .select({
      id: serviceAuditLogs.id,
      createdAt: serviceAuditLogs.createdAt,
      serviceIdentifier: serviceRegistry.serviceIdentifier,
      userId: serviceAuditLogs.userId,
      userLogin: users.githubLogin,
      action: serviceAuditLogs.action,
      success: serviceAuditLogs.success,
      metadata: serviceAuditLogs.metadata,
      ipAddress: serviceAuditLogs.ipAddress,
      userAgent: serviceAuditLogs.userAgent,
    })
    .from(serviceAuditLogs)
    .leftJoin(serviceRegistry, eq(serviceRegistry.id, serviceAuditLogs.serviceId))
    .leftJoin(users, eq(users.id, serviceAuditLogs.userId))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(serviceAuditLogs.createdAt), desc(serviceAuditLogs.id))
    .limit(limit);
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
