import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  type PgColumnBuilderBase,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import * as schema from '../../../drizzle/schema.ts';

/**
 * drizzle/schema.ts as a developer might change it, for testing `db:migrate:dev`. The users table
 * is declared again here (as in drizzle/schema.ts: a column added there must be added here too,
 * or every test of this file sees it dropped) with a column added or removed.
 */
function changedUsers(change: { add?: Record<string, PgColumnBuilderBase>; drop?: string }) {
  const columns: Record<string, PgColumnBuilderBase> = {
    id: uuid('id').primaryKey(),
    githubUserId: text('github_user_id').notNull(),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    expiresAt: timestamp('expires_at', { precision: 3 }),
    isWhitelisted: boolean('is_whitelisted').notNull().default(false),
    createdAt: timestamp('created_at', { precision: 3 }).notNull(),
    updatedAt: timestamp('updated_at', { precision: 3 }).notNull(),
    githubLogin: text('github_login'),
    lastSignInAt: timestamp('last_sign_in_at', { precision: 3 }),
    ...change.add,
  };
  if (change.drop) delete columns[change.drop];
  return pgTable('users', columns, (table) => [
    uniqueIndex('users_github_user_id_key').on(table.githubUserId as never),
    index('users_github_login_lower_idx').on(sql`lower(${table.githubLogin})`),
  ]);
}

export const schemaWithNickname = { ...schema, users: changedUsers({ add: { nickname: text('nickname') } }) };
export const schemaWithoutExpiresAt = { ...schema, users: changedUsers({ drop: 'expiresAt' }) };
/** expires_at gone and token_expires_at new: a rename or a drop and an add, which only a person can tell. */
export const schemaWithRenamedExpiry = {
  ...schema,
  users: changedUsers({ drop: 'expiresAt', add: { tokenExpiresAt: timestamp('token_expires_at', { precision: 3 }) } }),
};
