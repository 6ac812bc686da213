import { and, eq, ne, sql } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { Database } from './client.ts';

export interface SignedInUser {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
  isWhitelisted: boolean;
}

const signedInColumns = {
  id: users.id,
  githubUserId: users.githubUserId,
  githubLogin: users.githubLogin,
  isWhitelisted: users.isWhitelisted,
};

/**
 * Finds or creates the person by GitHub id and records their current login, in one statement
 * that is safe under concurrent sign-ins of the same person (one row, whoever wins). The tokens
 * are written next, once the row's id (part of their encryption context) is known.
 *
 * GitHub logins can be renamed and then taken by someone else. A sign-in proves the login is this
 * person's now, so the same statement clears it from any other row: otherwise whitelisting by
 * login could reach a stale row, a different person.
 */
export async function upsertGitHubUser(db: Database, githubUserId: string, githubLogin: string): Promise<SignedInUser> {
  const staleLogins = db.$with('stale_logins').as(
    db
      .update(users)
      .set({ githubLogin: null })
      .where(and(eq(sql`lower(${users.githubLogin})`, githubLogin.toLowerCase()), ne(users.githubUserId, githubUserId)))
      .returning({ id: users.id }),
  );
  const [row] = await db
    .with(staleLogins)
    .insert(users)
    .values({ githubUserId, githubLogin })
    .onConflictDoUpdate({ target: users.githubUserId, set: { githubLogin: sql`excluded.github_login` } })
    .returning(signedInColumns);
  if (!row) throw new Error('upsert returned no row');
  return row;
}

export async function findUserById(db: Database, id: string): Promise<SignedInUser | null> {
  const [row] = await db.select(signedInColumns).from(users).where(eq(users.id, id));
  return row ?? null;
}
