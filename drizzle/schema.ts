// The Drizzle schema: the database after every migration in migrations/, and the source of every
// row type. test/node/schema.test.ts proves that a database migrated from empty matches it.
//
// Ids and timestamps have no database defaults since the 20251212003212_ sync migration, so the
// application supplies them ($defaultFn). Timestamps are TIMESTAMP(3) without time zone holding UTC.
import { sql } from 'drizzle-orm';
import {
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

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
    /** The GitHub login at the last sign-in, so operators can whitelist by name (null for old rows). */
    githubLogin: text('github_login'),
    /** When the person last came back from GitHub signed in, admitted or not; null for rows from before it was kept. */
    lastSignInAt: utcTimestamp('last_sign_in_at'),
  },
  (table) => [
    uniqueIndex('users_github_user_id_key').on(table.githubUserId),
    index('users_github_login_lower_idx').on(sql`lower(${table.githubLogin})`),
  ],
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
    /** The lookup part of the current key (`gwk_<keyId>_<secret>`); null for a legacy bcrypt key. */
    keyId: text('key_id'),
    /** During a rotation's grace period: the previous key, still accepted until previousKeyExpiresAt. */
    previousKeyId: text('previous_key_id'),
    previousKeyHash: text('previous_key_hash'),
    previousKeyExpiresAt: utcTimestamp('previous_key_expires_at'),
    /** Where the gateway may send a person back after sign-in; compared exactly. */
    redirectUris: text('redirect_uris').array().notNull().default([]),
    /**
     * When an operator deleted the service: the row stays (its audit rows reference it, ON DELETE
     * RESTRICT, and its id stays reserved so they keep naming one service), its keys are cleared,
     * and every lookup treats it as unknown.
     */
    deletedAt: utcTimestamp('deleted_at'),
    /** Where the gateway POSTs the service's events (docs/api.md, "Events"); null: it gets none. */
    eventsUrl: text('events_url'),
    /** The events signing secret (`whsec_…`), encrypted with TOKEN_ENCRYPTION_KEY (docs/security.md). */
    eventsSecret: text('events_secret'),
    /** During a secret rotation's grace period: the previous secret, also signing until it expires. */
    eventsPreviousSecret: text('events_previous_secret'),
    eventsPreviousSecretExpiresAt: utcTimestamp('events_previous_secret_expires_at'),
    /** Since when deliveries to the events URL fail without one succeeding; null while they succeed. */
    eventsFailingSince: utcTimestamp('events_failing_since'),
  },
  (table) => [
    uniqueIndex('service_registry_service_identifier_key').on(table.serviceIdentifier),
    index('service_registry_is_active_idx').on(table.isActive),
    uniqueIndex('service_registry_key_id_key').on(table.keyId),
    uniqueIndex('service_registry_previous_key_id_key').on(table.previousKeyId),
  ],
);

export const serviceAuditLogs = pgTable(
  'service_audit_logs',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    /** Null when the key presented matched no service. */
    serviceId: uuid('service_id'),
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

/** Short-lived, single-use codes a service exchanges for a session after a person signs in. */
export const loginCodes = pgTable(
  'login_codes',
  {
    /** SHA-256 of the code, hex: the code itself is only ever in the redirect URL. */
    codeHash: text('code_hash').primaryKey(),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => serviceRegistry.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    expiresAt: utcTimestamp('expires_at').notNull(),
    usedAt: utcTimestamp('used_at'),
    /** The session the code was exchanged for (chosen when it was used): revoked if the code comes again. */
    sessionId: uuid('session_id'),
    /** The service's PKCE S256 challenge, if it sent one: the exchange must then bring the verifier. */
    codeChallenge: text('code_challenge'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
  },
  (table) => [index('login_codes_expires_at_idx').on(table.expiresAt)],
);

/** Signed-in sessions; the session token is signed and names a row here, which sign-out revokes. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    /** The service the session was issued to; null for the gateway's own landing. */
    serviceId: uuid('service_id').references(() => serviceRegistry.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    expiresAt: utcTimestamp('expires_at').notNull(),
    revokedAt: utcTimestamp('revoked_at'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
  },
  (table) => [
    index('sessions_user_id_idx').on(table.userId),
    // The events sweep finds, once a minute, the standing access that ran out in the last hour.
    index('sessions_expires_at_idx').on(table.expiresAt),
  ],
);

/**
 * Who changed what, and every sign-in outcome and sign-out: one row per operator command or admin
 * API change, sign-in and sign-out (src/changes/). Kept apart from service_audit_logs, which keeps
 * the seed's meaning: service access attempts. Names, ids and codes only: never a key, token,
 * hash, code or cookie.
 */
export const changeRecords = pgTable(
  'change_records',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    /** 'change' (an operator command or the admin API) or 'sign-in' (sign-in outcomes, sign-outs). */
    kind: text('kind').notNull(),
    /** From one vocabulary, src/changes/actions.ts (`services:rotate-key`, `sign-in:pending`). */
    action: text('action').notNull(),
    success: boolean('success').notNull(),
    /** The outcome: `ok`, or which check refused a sign-in (`not_whitelisted`, `github_denied`). */
    code: text('code').notNull(),
    /** Who: 'operator', 'service' or 'person'. */
    actorKind: text('actor_kind').notNull(),
    /** An operator's name (GATEWAY_OPERATOR, else OS user@host). */
    actorName: text('actor_name'),
    /** The admin API's calling service. */
    actorServiceId: uuid('actor_service_id'),
    /** The person acting (signing in or out). */
    actorUserId: uuid('actor_user_id'),
    /** To whom: the person and the service the change or sign-in concerns. */
    subjectUserId: uuid('subject_user_id'),
    subjectServiceId: uuid('subject_service_id'),
    /** From where: the request's address and user agent (HTTP), the host (a command). */
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    host: text('host'),
    requestId: text('request_id'),
    /** What else the change said (scopes, grace period, login): never a secret. */
    details: jsonb('details').notNull(),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
  },
  (table) => [
    foreignKey({
      name: 'change_records_actor_service_id_fkey',
      columns: [table.actorServiceId],
      foreignColumns: [serviceRegistry.id],
    })
      .onDelete('restrict')
      .onUpdate('cascade'),
    foreignKey({
      name: 'change_records_subject_service_id_fkey',
      columns: [table.subjectServiceId],
      foreignColumns: [serviceRegistry.id],
    })
      .onDelete('restrict')
      .onUpdate('cascade'),
    foreignKey({ name: 'change_records_actor_user_id_fkey', columns: [table.actorUserId], foreignColumns: [users.id] })
      .onDelete('set null')
      .onUpdate('cascade'),
    foreignKey({
      name: 'change_records_subject_user_id_fkey',
      columns: [table.subjectUserId],
      foreignColumns: [users.id],
    })
      .onDelete('set null')
      .onUpdate('cascade'),
    index('change_records_created_at_id_idx').on(table.createdAt, table.id),
    index('change_records_subject_user_id_idx').on(table.subjectUserId),
    index('change_records_subject_service_id_idx').on(table.subjectServiceId),
  ],
);

/**
 * Who is admitted besides the per-person whitelist flag: the members of a GitHub organization
 * (kind 'org'), of a team ('team'), or one person ('login', resolved to the GitHub user id when the
 * rule is made, so a later rename or reuse of the login moves nothing). A removed rule is kept
 * (removed_at, removed_by): the record of who admitted whom stays readable.
 */
export const admissionRules = pgTable(
  'admission_rules',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    /** 'org', 'team' or 'login'. */
    kind: text('kind').notNull(),
    /** What the rule names, one spelling per rule: `org:<org id>`, `team:<org id>/<slug>`, `login:<user id>`. */
    target: text('target').notNull(),
    /** The organization (org and team rules): its login as GitHub spells it, and its GitHub id. */
    orgLogin: text('org_login'),
    orgId: text('org_id'),
    /** The team's slug (team rules). */
    teamSlug: text('team_slug'),
    /** The person (login rules): their GitHub id, and their login when the rule was made. */
    githubUserId: text('github_user_id'),
    githubLogin: text('github_login'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
    /** Who made it: an operator's name, or `service:<id>` for the admin API. */
    createdBy: text('created_by').notNull(),
    removedAt: utcTimestamp('removed_at'),
    removedBy: text('removed_by'),
  },
  (table) => [
    uniqueIndex('admission_rules_live_target_key').on(table.target).where(sql`${table.removedAt} IS NULL`),
    index('admission_rules_github_user_id_idx').on(table.githubUserId),
  ],
);

/**
 * The last organization and team membership check of each person (src/admission/): at sign-in
 * with the person's own token, and again after a verify once the result is older than
 * MEMBERSHIP_FRESH_SECONDS. Verify reads it with the session, in the same query.
 */
export const membershipChecks = pgTable('membership_checks', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
  /** The rule whose membership admitted the person at the last successful check; null: none did. */
  admittedByRuleId: uuid('admitted_by_rule_id').references(() => admissionRules.id, {
    onDelete: 'set null',
    onUpdate: 'cascade',
  }),
  /** When GitHub last answered every rule's question (or showed a membership); null: never. */
  checkedAt: utcTimestamp('checked_at'),
  /** The last attempt, answered or not: a re-check claims the row by moving it. */
  attemptedAt: utcTimestamp('attempted_at').notNull(),
  /** Why the last attempt got no answer (`github_unreachable`, `refresh_failed`); null when it got one. */
  failure: text('failure'),
});

/**
 * Events for services (src/events/): a transactional outbox. A row is written with the change it
 * reports (a sign-out, a revocation, an admission that ended), then delivered after the response
 * and retried with backoff until the service answers 2xx or the schedule ends (given_up_at).
 * `body` is the exact JSON sent on every attempt; the row id is its `webhook-id`.
 */
export const serviceEvents = pgTable(
  'service_events',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    serviceId: uuid('service_id')
      .notNull()
      .references(() => serviceRegistry.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    /** `session.ended` or `admission.ended`. */
    type: text('type').notNull(),
    body: text('body').notNull(),
    /** Set for events a sweep may find twice (a standing access that ran out): one row per key. */
    dedupeKey: text('dedupe_key'),
    createdAt: utcTimestamp('created_at').notNull().$defaultFn(now),
    /** When the next attempt is due; an attempt claims the row by moving it forward. */
    nextAttemptAt: utcTimestamp('next_attempt_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    deliveredAt: utcTimestamp('delivered_at'),
    givenUpAt: utcTimestamp('given_up_at'),
  },
  (table) => [
    uniqueIndex('service_events_dedupe_key_key').on(table.dedupeKey),
    index('service_events_service_id_created_at_idx').on(table.serviceId, table.createdAt),
    // What a service listing counts as `undelivered`, without reading its delivered history.
    index('service_events_undelivered_service_id_idx')
      .on(table.serviceId)
      .where(sql`${table.deliveredAt} IS NULL AND ${table.givenUpAt} IS NULL`),
    index('service_events_due_idx')
      .on(table.nextAttemptAt)
      .where(sql`${table.deliveredAt} IS NULL AND ${table.givenUpAt} IS NULL`),
  ],
);

/** Each delivery attempt of an event: what the service answered, or why nothing came back. */
export const serviceEventAttempts = pgTable(
  'service_event_attempts',
  {
    id: uuid('id').primaryKey().$defaultFn(newId),
    eventId: uuid('event_id')
      .notNull()
      .references(() => serviceEvents.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    attemptedAt: utcTimestamp('attempted_at').notNull().$defaultFn(now),
    /** The HTTP status the events URL answered; null when none came (timeout, refused connection). */
    status: integer('status'),
    /** Why it failed, in a few words (`timeout`, `connection_failed`, `status 503`); null on success. */
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (table) => [index('service_event_attempts_event_id_idx').on(table.eventId)],
);

/**
 * Who may use the operator console (/console): one row per person granted it, from the command line
 * (`gateway users grant-operator`) or by another operator. Kept apart from `users`, which the old
 * system still reads and writes: no code of its can grant or copy the privilege. Revoking deletes
 * the row; change_records keeps who granted and revoked it, when.
 */
export const operatorGrants = pgTable('operator_grants', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
  grantedAt: utcTimestamp('granted_at').notNull().$defaultFn(now),
});

/**
 * Pending sign-ups an operator dismissed in the console: hidden from its pending list until the
 * person signs in again after `dismissed_at` (then they are asking again).
 */
export const pendingDismissals = pgTable('pending_dismissals', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
  dismissedAt: utcTimestamp('dismissed_at').notNull().$defaultFn(now),
});

export type User = typeof users.$inferSelect;
export type Service = typeof serviceRegistry.$inferSelect;
export type NewService = typeof serviceRegistry.$inferInsert;
export type ServiceAuditLog = typeof serviceAuditLogs.$inferSelect;
export type LoginCode = typeof loginCodes.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type NewServiceAuditLog = typeof serviceAuditLogs.$inferInsert;
export type ChangeRecord = typeof changeRecords.$inferSelect;
export type AdmissionRule = typeof admissionRules.$inferSelect;
export type MembershipCheck = typeof membershipChecks.$inferSelect;
export type NewChangeRecord = typeof changeRecords.$inferInsert;
export type ServiceEvent = typeof serviceEvents.$inferSelect;
export type ServiceEventAttempt = typeof serviceEventAttempts.$inferSelect;
export type OperatorGrant = typeof operatorGrants.$inferSelect;
