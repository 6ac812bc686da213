import { eq } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { Queryable } from './client.ts';

/**
 * A person by GitHub id (to grant, let in or dismiss): null when nobody with it has signed in. The row is
 * locked for the caller's transaction, so a sign-in cannot move the login it was found by meanwhile.
 */
export async function lockPersonByGitHubId(db: Queryable, githubUserId: string): Promise<PersonIds | null> {
  const [row] = await db
    .select({ id: users.id, githubUserId: users.githubUserId, githubLogin: users.githubLogin })
    .from(users)
    .where(eq(users.githubUserId, githubUserId))
    .for('update');
  return row ?? null;
}

export interface PersonIds {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
}
