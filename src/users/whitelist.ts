import { eq, sql } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { Database } from '../db/client.ts';

export type PersonRef = { login: string } | { githubId: string };

export interface WhitelistChange {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
  isWhitelisted: boolean;
}

/**
 * Allows (or stops allowing) a person in, by GitHub login (case-insensitive) or numeric GitHub id.
 * Null when no such person has signed in yet: the row, with their GitHub id, is made at first sign-in.
 */
export async function setWhitelisted(
  db: Database,
  person: PersonRef,
  allowed: boolean,
): Promise<WhitelistChange | null> {
  const where =
    'login' in person
      ? eq(sql`lower(${users.githubLogin})`, person.login.toLowerCase())
      : eq(users.githubUserId, person.githubId);
  const rows = await db.update(users).set({ isWhitelisted: allowed }).where(where).returning({
    id: users.id,
    githubUserId: users.githubUserId,
    githubLogin: users.githubLogin,
    isWhitelisted: users.isWhitelisted,
  });
  return rows[0] ?? null;
}
