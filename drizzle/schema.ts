// The Drizzle schema: the database after every migration in migrations/, and the source of every
// row type. test/node/schema.test.ts proves that a database migrated from empty matches it.
//
// Ids and timestamps have no database defaults since the 20251212003212_ sync migration, so the
// application supplies them ($defaultFn). Timestamps are TIMESTAMP(3) without time zone holding UTC.
import { boolean, foreignKey, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const newId = () => crypto.randomUUID();
const now = () => new Date();
const utcTimestamp = (name: string) => timestamp(name, { precision: 3, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    githubUserId: text('github_user_id').notNull(),
    /** Encrypted (salt:iv:authTag:ciphertext); a row from before v1.2 may still hold plaintext. */
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    expiresAt: utcTimestamp('expires_at'),
    isWhitelisted: boolean('is_whitelisted').notNull().default(false),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
    // The update_users_updated_at trigger also sets it, for writers that do not.
    updatedAt: utcTimestamp('updated_at').notNull().$defaultFn(now).$onUpdateFn(now),
  },
  (table) => [uniqueIndex('users_github_user_id_key').on(table.githubUserId)],
);

export const serviceRegistry = pgTable(
  'service_registry',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    serviceIdentifier: text('service_identifier').notNull(),
    displayName: text('display_name').notNull(),
    apiKeyHash: text('api_key_hash').notNull(),
    allowedScopes: text('allowed_scopes').array().notNull().default([]),
    isActive: boolean('is_active').notNull().default(true),
    lastUsedAt: utcTimestamp('last_used_at'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
    updatedAt: utcTimestamp('updated_at').notNull().$defaultFn(now).$onUpdateFn(now),
  },
  (table) => [
    uniqueIndex('service_registry_service_identifier_key').on(table.serviceIdentifier),
    index('service_registry_is_active_idx').on(table.isActive),
  ],
);

export const serviceAuditLogs = pgTable(
  'service_audit_logs',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    serviceId: uuid('service_id').notNull(),
    userId: uuid('user_id'),
    action: text('action').notNull(),
    success: boolean('success').notNull(),
    failureReason: text('failure_reason'),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    metadata: jsonb('metadata'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
  },
  (table) => [
    foreignKey({
      name: 'service_audit_logs_service_id_fkey',
      columns: [table.serviceId],
      foreignColumns: [serviceRegistry.id],
    })
      .onDelete('restrict')
      .onUpdate('cascade'),
    foreignKey({ name: 'service_audit_logs_user_id_fkey', columns: [table.userId], foreignColumns: [users.id] })
      .onDelete('set null')
      .onUpdate('cascade'),
    index('service_audit_logs_service_id_idx').on(table.serviceId),
    index('service_audit_logs_user_id_idx').on(table.userId),
    index('service_audit_logs_created_at_idx').on(table.createdAt),
    index('service_audit_logs_success_idx').on(table.success),
  ],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type Service = typeof serviceRegistry.$inferSelect;
export type NewService = typeof serviceRegistry.$inferInsert;
export type ServiceAuditLog = typeof serviceAuditLogs.$inferSelect;
export type NewServiceAuditLog = typeof serviceAuditLogs.$inferInsert;
