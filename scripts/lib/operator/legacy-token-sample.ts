import { asc, gt } from 'drizzle-orm';
import { users } from '../../../drizzle/schema.ts';
import { decryptToken, type TokenContext, type TokenKeyring } from '../../../src/crypto/token-cipher.ts';
import type { Database } from '../../../src/db/client.ts';
import { classifyStoredToken } from '../../../src/users/github-tokens.ts';

/** A stored token no configured key opens, with where it is (never printed itself). */
export interface UnreadableToken {
  value: string;
  context: TokenContext;
}

export interface UnreadableSample {
  tokens: UnreadableToken[];
  /** Users read to find them (the walk stops once the sample is full). */
  usersRead: number;
}

const PAGE = 500;

/**
 * The first `size` stored tokens in the encrypted shape (`a:b:c:d`) that no configured key opens:
 * the old system's own v1.2 values, the ones `detect-legacy` learns its scheme from. The gateway's
 * own values open under TOKEN_ENCRYPTION_KEY (or a previous key) and are never sampled, so a
 * database half carried over samples only what is left. Keyset-paged by user id, in one order, so
 * two runs sample the same values.
 */
export async function sampleUnreadableTokens(
  db: Database,
  keyring: TokenKeyring,
  size: number,
): Promise<UnreadableSample> {
  const tokens: UnreadableToken[] = [];
  let usersRead = 0;
  let cursor: string | null = null;
  while (tokens.length < size) {
    const rows = await db
      .select({ id: users.id, accessToken: users.accessToken, refreshToken: users.refreshToken })
      .from(users)
      .where(cursor === null ? undefined : gt(users.id, cursor))
      .orderBy(asc(users.id))
      .limit(PAGE);
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]?.id ?? null;
    for (const row of rows) {
      usersRead += 1;
      for (const [field, value] of [
        ['access_token', row.accessToken],
        ['refresh_token', row.refreshToken],
      ] as const) {
        if (tokens.length >= size || value === null || classifyStoredToken(value) !== 'encrypted') continue;
        const context = { field, userId: row.id };
        const opens = await decryptToken(value, keyring, context).then(
          () => true,
          () => false,
        );
        if (!opens) tokens.push({ value, context });
      }
      if (tokens.length >= size) break;
    }
  }
  return { tokens, usersRead };
}
