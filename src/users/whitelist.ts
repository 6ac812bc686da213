import { eq, sql } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { Database } from '../db/client.ts';
import { CodedError } from '../errors/coded-error.ts';

export type PersonRef = { login: string } | { githubId: string };

export interface WhitelistChange {
  id: string;
  githubUserId: string;
  githubLogin: string | null;
  isWhitelisted: boolean;
}

/**
 * More than one person carries this login: data from before logins were kept unique (the old
 * system's rows, or people who have not signed in since a rename). The operator must say who.
 */
export class AmbiguousLoginError extends CodedError<'ambiguous_login'> {
  readonly githubIds: string[];

  constructor(login: string, githubIds: string[]) {
    super(
      'ambiguous_login',
      `The login ${login} belongs to ${githubIds.length} people here (GitHub ids ${githubIds.join(', ')}): GitHub logins can be renamed and reused. Whitelist by GitHub id instead.`,
    );
    this.githubIds = githubIds;
  }
}

const changeColumns = {
  id: users.id,
  githubUserId: users.githubUserId,
  githubLogin: users.githubLogin,
  isWhitelisted: users.isWhitelisted,
};

/**
 * Allows (or stops allowing) a person in, by GitHub login (case-insensitive) or numeric GitHub id.
 * Null when no such person has signed in yet: the row, with their GitHub id, is made at first sign-in.
 * A login changes exactly one person or none: if several rows carry it, nothing changes and
 * AmbiguousLoginError names their GitHub ids.
 */
export async function setWhitelisted(
  db: Database,
  person: PersonRef,
  allowed: boolean,
): Promise<WhitelistChange | null> {
  let githubId: string;
  if ('login' in person) {
    const matches = await db
      .select({ githubUserId: users.githubUserId })
      .from(users)
      .where(eq(sql`lower(${users.githubLogin})`, person.login.toLowerCase()))
      .orderBy(users.githubUserId)
      .limit(10);
    if (matches.length === 0) return null;
    if (matches.length > 1)
      throw new AmbiguousLoginError(
        person.login,
        matches.map((match) => match.githubUserId),
      );
    githubId = matches[0]?.githubUserId ?? '';
  } else {
    githubId = person.githubId;
  }
  const rows = await db
    .update(users)
    .set({ isWhitelisted: allowed })
    .where(eq(users.githubUserId, githubId))
    .returning(changeColumns);
  return rows[0] ?? null;
}
