import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database, Queryable } from '../db/client.ts';
import { findGitHubIdsByLogin, type SignedInUser, setWhitelistedByGitHubId } from '../db/users.ts';
import { GatewayError } from '../errors/gateway-error.ts';

/** How many GitHub ids an ambiguous-login message lists. */
const MAX_LISTED = 10;

export type PersonRef = { login: string } | { githubId: string };

/** The person after the change; `changed` is false when they were in that state already. */
export type WhitelistChange = SignedInUser & { changed: boolean };

/**
 * More than one person carries this login: data from before logins were kept unique (the old
 * system's rows, or people who have not signed in since a rename). The operator must say who.
 */
export class AmbiguousLoginError extends GatewayError<'ambiguous_login'> {
  readonly githubIds: string[];

  constructor(login: string, githubIds: string[]) {
    const listed = githubIds.slice(0, MAX_LISTED);
    const more = githubIds.length > MAX_LISTED ? ', and more' : '';
    super(
      'ambiguous_login',
      'conflict',
      `The login ${login} belongs to ${githubIds.length > MAX_LISTED ? `more than ${MAX_LISTED}` : githubIds.length} people here (GitHub ids ${listed.join(', ')}${more}): GitHub logins can be renamed and reused. Whitelist by GitHub id instead.`,
    );
    this.githubIds = listed;
  }
}

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
  origin: ChangeOrigin,
): Promise<WhitelistChange | null> {
  return db.transaction(async (tx) => {
    const result = await setFlag(tx, person, allowed);
    // A person already in that state: nothing changed, so nothing is recorded.
    if (result?.changed)
      await recordChange(tx, origin, {
        action: allowed ? 'users:whitelist' : 'users:unwhitelist',
        subjectUserId: result.id,
        details: { github_id: result.githubUserId, login: result.githubLogin },
      });
    return result;
  });
}

async function setFlag(db: Queryable, person: PersonRef, allowed: boolean): Promise<WhitelistChange | null> {
  if (!('login' in person)) return setWhitelistedByGitHubId(db, person.githubId, allowed);
  const githubIds = await findGitHubIdsByLogin(db, person.login, MAX_LISTED + 1);
  const [only] = githubIds;
  if (only === undefined) return null;
  if (githubIds.length > 1) throw new AmbiguousLoginError(person.login, githubIds);
  // The login must still be theirs when the flag is set: a sign-in in between may have moved it.
  return setWhitelistedByGitHubId(db, only, allowed, { login: person.login });
}
