import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Queryable } from '../db/client.ts';
import { findStoredTokens, writeStoredTokens } from '../db/user-tokens.ts';
import { type GitHubTokens, type OpenedGitHubTokens, openGitHubTokens, sealGitHubTokens } from './github-tokens.ts';

/** Writes a user's GitHub tokens, always encrypted, with their expiry. */
export async function storeGitHubTokens(
  db: Queryable,
  keyring: TokenKeyring,
  userId: string,
  tokens: GitHubTokens & { expiresAt: Date | null },
): Promise<void> {
  const sealed = await sealGitHubTokens(keyring, userId, tokens);
  await writeStoredTokens(db, userId, { ...sealed, expiresAt: tokens.expiresAt });
}

/** Reads and decrypts a user's GitHub tokens; null when there is no such user. */
export async function loadGitHubTokens(
  db: Queryable,
  keyring: TokenKeyring,
  userId: string,
): Promise<(OpenedGitHubTokens & { expiresAt: Date | null }) | null> {
  const row = await findStoredTokens(db, userId);
  if (!row) return null;
  return { ...(await openGitHubTokens(keyring, row)), expiresAt: row.expiresAt };
}
