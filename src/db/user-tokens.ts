import { eq } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import {
  type GitHubTokens,
  type OpenedGitHubTokens,
  openGitHubTokens,
  sealGitHubTokens,
} from '../users/github-tokens.ts';
import type { Database, Queryable } from './client.ts';

/** Writes a user's GitHub tokens, always encrypted, with their expiry. */
export async function storeGitHubTokens(
  db: Queryable,
  keyring: TokenKeyring,
  userId: string,
  tokens: GitHubTokens & { expiresAt: Date | null },
): Promise<void> {
  const sealed = await sealGitHubTokens(keyring, userId, tokens);
  await db
    .update(users)
    .set({ accessToken: sealed.accessToken, refreshToken: sealed.refreshToken, expiresAt: tokens.expiresAt })
    .where(eq(users.id, userId));
}

/** Reads and decrypts a user's GitHub tokens; null when there is no such user. */
export async function loadGitHubTokens(
  db: Database,
  keyring: TokenKeyring,
  userId: string,
): Promise<(OpenedGitHubTokens & { expiresAt: Date | null }) | null> {
  const row = await selectStoredTokens(db, userId);
  if (!row) return null;
  return { ...(await openGitHubTokens(keyring, row)), expiresAt: row.expiresAt };
}

export interface StoredTokenRow {
  id: string;
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: Date | null;
}

/** A user's stored (encrypted) tokens; `forUpdate` locks the row until the transaction ends. */
export async function selectStoredTokens(
  db: Queryable,
  userId: string,
  options: { forUpdate?: boolean } = {},
): Promise<StoredTokenRow | null> {
  const query = db
    .select({
      id: users.id,
      accessToken: users.accessToken,
      refreshToken: users.refreshToken,
      expiresAt: users.expiresAt,
    })
    .from(users)
    .where(eq(users.id, userId));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row ?? null;
}
