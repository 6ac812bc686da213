import {
  decryptToken,
  encryptToken,
  TokenCipherError,
  type TokenContext,
  type TokenField,
  type TokenKeyring,
} from '../crypto/token-cipher.ts';

/**
 * TOKEN_PLAINTEXT: `read` hands out a token the old system stored in plaintext (and the next write
 * encrypts it); `refuse`, for once `migrate:encrypt-tokens` has run, treats one like a token no key
 * opens: a plaintext value found after that was planted, not migrated.
 */
export type PlaintextPolicy = 'read' | 'refuse';

/** The keys, and what to do with a plaintext value; the policy travels with the keys to every read. */
export interface TokenReadingKeys extends TokenKeyring {
  plaintext?: PlaintextPolicy;
}

export function withPlaintextPolicy(keyring: TokenKeyring, plaintext: PlaintextPolicy): TokenReadingKeys {
  return { ...keyring, plaintext };
}

/** A person's GitHub tokens as the application uses them: plaintext, in memory only. */
export interface GitHubTokens {
  accessToken: string | null;
  refreshToken: string | null;
}

export interface OpenedGitHubTokens extends GitHubTokens {
  /** True when a token was stored in plaintext by the old system: the next write encrypts it. */
  legacyPlaintext: boolean;
  /** True when a token needed a previous key: `npx gateway tokens rotate` (or the next write) re-encrypts it. */
  underPreviousKey: boolean;
}

/** Encrypts both tokens for the given user's row. A null token stays null. */
export async function sealGitHubTokens(
  keyring: TokenKeyring,
  userId: string,
  tokens: GitHubTokens,
): Promise<GitHubTokens> {
  const seal = (field: TokenField, value: string | null) =>
    value === null ? null : encryptToken(value, keyring, { field, userId });
  const [accessToken, refreshToken] = await Promise.all([
    seal('access_token', tokens.accessToken),
    seal('refresh_token', tokens.refreshToken),
  ]);
  return { accessToken, refreshToken };
}

/**
 * Decrypts the stored tokens of a user row. Under `plaintext: 'refuse'` a plaintext value throws
 * TokenCipherError `plaintext_refused`, which callers already answer as an unreadable token.
 */
export async function openGitHubTokens(
  keyring: TokenReadingKeys,
  row: { id: string; accessToken: string | null; refreshToken: string | null },
): Promise<OpenedGitHubTokens> {
  const [access, refresh] = await Promise.all([
    openStoredToken(row.accessToken, keyring, { field: 'access_token', userId: row.id }),
    openStoredToken(row.refreshToken, keyring, { field: 'refresh_token', userId: row.id }),
  ]);
  return {
    accessToken: access.value,
    refreshToken: refresh.value,
    legacyPlaintext: access.plaintext || refresh.plaintext,
    underPreviousKey: access.previousKey || refresh.previousKey,
  };
}

export type StoredTokenKind = 'null' | 'plaintext' | 'encrypted';

/**
 * GitHub tokens are letters, digits and underscores; an encrypted value always has colons. So a
 * value without a colon is a plaintext token the old system wrote, and anything with a colon must
 * be a well-formed encrypted value (the strict parser decides; it never passes a value through).
 */
export function classifyStoredToken(value: string | null): StoredTokenKind {
  if (value === null) return 'null';
  return value.includes(':') ? 'encrypted' : 'plaintext';
}

async function openStoredToken(stored: string | null, keyring: TokenReadingKeys, context: TokenContext) {
  switch (classifyStoredToken(stored)) {
    case 'null':
      return { value: null, plaintext: false, previousKey: false };
    case 'plaintext':
      if (keyring.plaintext === 'refuse') throw plaintextRefused(context);
      return { value: stored, plaintext: true, previousKey: false };
    default: {
      const opened = await decryptToken(stored ?? '', keyring, context);
      return { value: opened.plaintext, plaintext: false, previousKey: opened.keyIndex > 0 };
    }
  }
}

/** Names the column, never the value. */
function plaintextRefused(context: TokenContext): TokenCipherError {
  return new TokenCipherError(
    'plaintext_refused',
    `The stored ${context.field} is plaintext and TOKEN_PLAINTEXT is refuse; the person must sign in again.`,
  );
}
