import { eq } from 'drizzle-orm';
import { type User, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';

/**
 * A person's GitHub tokens as their row holds them: ciphertext (or an old system's plaintext),
 * never opened here. Sealing and opening is src/users/github-tokens.ts's job.
 */
export type StoredTokens = Pick<User, 'accessToken' | 'refreshToken' | 'expiresAt'>;

export type StoredTokenRow = Pick<User, 'id'> & StoredTokens;

const storedTokenColumns = {
  id: users.id,
  accessToken: users.accessToken,
  refreshToken: users.refreshToken,
  expiresAt: users.expiresAt,
};

/** Writes the sealed tokens it is handed, with their expiry, into the person's row. */
export async function writeStoredTokens(db: Queryable, userId: string, tokens: StoredTokens): Promise<void> {
  await db
    .update(users)
    .set({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresAt: tokens.expiresAt })
    .where(eq(users.id, userId));
}

/** The person's stored tokens; null when there is no such person. */
export async function findStoredTokens(db: Queryable, userId: string): Promise<StoredTokenRow | null> {
  const [row] = await db.select(storedTokenColumns).from(users).where(eq(users.id, userId));
  return row ?? null;
}

/**
 * Runs `work` in a transaction holding the person's row lock (`SELECT ... FOR UPDATE`), with the
 * row as it is once the lock is held (null: no such person) and the transaction to write through.
 * Concurrent callers for the same person queue here until the one before them commits, so what
 * one writes, the next one reads.
 */
export function withLockedTokenRow<T>(
  db: Database,
  userId: string,
  work: (row: StoredTokenRow | null, tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select(storedTokenColumns).from(users).where(eq(users.id, userId)).for('update');
    return work(row ?? null, tx);
  });
}
