import { and, eq, sql } from 'drizzle-orm';
import { users } from '../../drizzle/schema.ts';
import type { Database } from '../db/client.ts';
import { CodedError } from '../errors/coded-error.ts';

/** How many GitHub ids an ambiguous-login message lists. */
const MAX_LISTED = 10;

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
    const listed = githubIds.slice(0, MAX_LISTED);
    const more = githubIds.length > MAX_LISTED ? ', and more' : '';
    super(
      'ambiguous_login',
      `The login ${login} belongs to ${githubIds.length > MAX_LISTED ? `more than ${MAX_LISTED}` : githubIds.length} people here (GitHub ids ${listed.join(', ')}${more}): GitHub logins can be renamed and reused. Whitelist by GitHub id instead.`,
    );
    this.githubIds = listed;
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
  if (!('login' in person)) {
    const rows = await db
      .update(users)
      .set({ isWhitelisted: allowed })
      .where(eq(users.githubUserId, person.githubId))
      .returning(changeColumns);
    return rows[0] ?? null;
  }
  const sameLogin = eq(sql`lower(${users.githubLogin})`, person.login.toLowerCase());
  const matches = await db
    .select({ githubUserId: users.githubUserId })
    .from(users)
    .where(sameLogin)
    .orderBy(users.githubUserId)
    .limit(MAX_LISTED + 1);
  if (matches.length === 0) return null;
  if (matches.length > 1)
    throw new AmbiguousLoginError(
      person.login,
      matches.map((match) => match.githubUserId),
    );
  // The login must still be theirs when the flag is set: a sign-in in between may have moved it.
  const rows = await db
    .update(users)
    .set({ isWhitelisted: allowed })
    .where(and(eq(users.githubUserId, matches[0]?.githubUserId ?? ''), sameLogin))
    .returning(changeColumns);
  return rows[0] ?? null;
}
