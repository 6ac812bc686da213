import { decideAdmission, type MembershipBounds } from '../admission/decide.ts';
import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database, Queryable } from '../db/client.ts';
import { findGitHubIdsByLogin, findUserById, type SignedInUser, setWhitelistedByGitHubId } from '../db/users.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { emitAdmissionEnded } from '../events/emit.ts';
import { membershipFreshSeconds, membershipHardSeconds } from '../validation/membership-seconds.ts';

/** How many GitHub ids an ambiguous-login message lists. */
export const MAX_LISTED = 10;

export type PersonRef = { login: string } | { githubId: string };

/**
 * The person after the change; `changed` is false when they were in that state already.
 * `eventIds`: the `admission.ended` events the change wrote, for the caller to start delivering.
 */
export type WhitelistChange = SignedInUser & { changed: boolean; eventIds: string[] };

/** The membership bounds when the caller names none: the settings' defaults. */
const DEFAULT_BOUNDS: MembershipBounds = {
  freshSeconds: membershipFreshSeconds.parse(undefined),
  hardSeconds: membershipHardSeconds.parse(undefined),
};

/**
 * More than one person carries this login: data from before logins were kept unique (the old
 * system's rows, or people who have not signed in since a rename). The operator must say who;
 * `instead` says how, for the change that was asked for.
 */
export class AmbiguousLoginError extends GatewayError<'ambiguous_login'> {
  readonly githubIds: string[];

  constructor(login: string, githubIds: string[], instead = 'Whitelist by GitHub id instead.') {
    const listed = githubIds.slice(0, MAX_LISTED);
    const more = githubIds.length > MAX_LISTED ? ', and more' : '';
    super(
      'ambiguous_login',
      'conflict',
      `The login ${login} belongs to ${githubIds.length > MAX_LISTED ? `more than ${MAX_LISTED}` : githubIds.length} people here (GitHub ids ${listed.join(', ')}${more}): GitHub logins can be renamed and reused. ${instead}`,
    );
    this.githubIds = listed;
  }
}

/**
 * Allows (or stops allowing) a person in, by GitHub login (case-insensitive) or numeric GitHub id.
 * Null when no such person has signed in yet: the row, with their GitHub id, is made at first sign-in.
 * A login changes exactly one person or none: if several rows carry it, nothing changes and
 * AmbiguousLoginError names their GitHub ids. Taking someone off the whitelist whom nothing else
 * admits now (decided as verify decides, with `membership`) writes `admission.ended`
 * `not_whitelisted` to the services they signed in through, in the same transaction.
 */
export async function setWhitelisted(
  db: Database,
  person: PersonRef,
  allowed: boolean,
  origin: ChangeOrigin,
  membership: MembershipBounds = DEFAULT_BOUNDS,
): Promise<WhitelistChange | null> {
  return db.transaction(async (tx) => {
    const result = await setFlag(tx, person, allowed);
    if (!result) return null;
    // A person already in that state: nothing changed, so nothing is recorded.
    if (!result.changed) return { ...result, eventIds: [] };
    await recordChange(tx, origin, {
      action: allowed ? 'users:whitelist' : 'users:unwhitelist',
      subjectUserId: result.id,
      details: { github_id: result.githubUserId, login: result.githubLogin },
    });
    return { ...result, eventIds: allowed ? [] : await admissionEndedIfRefused(tx, result.id, membership) };
  });
}

/**
 * `admission.ended` when nothing admits the person any more; else nothing. Its reason is the one
 * verify now answers: `not_a_member` when org or team rules exist and the last check found them in
 * none, else `not_whitelisted` (also when verify answers `membership_unverified`: the whitelist
 * was what admitted them).
 */
async function admissionEndedIfRefused(db: Queryable, userId: string, membership: MembershipBounds) {
  const person = await findUserById(db, userId);
  if (!person) return [];
  const decision = decideAdmission(person.admission, membership);
  if (decision.admitted) return [];
  return emitAdmissionEnded(db, {
    userId,
    reason: decision.code === 'not_a_member' ? 'not_a_member' : 'not_whitelisted',
  });
}

async function setFlag(
  db: Queryable,
  person: PersonRef,
  allowed: boolean,
): Promise<(SignedInUser & { changed: boolean }) | null> {
  if (!('login' in person)) return setWhitelistedByGitHubId(db, person.githubId, allowed);
  const githubIds = await findGitHubIdsByLogin(db, person.login, MAX_LISTED + 1);
  const [only] = githubIds;
  if (only === undefined) return null;
  if (githubIds.length > 1) throw new AmbiguousLoginError(person.login, githubIds);
  // The login must still be theirs when the flag is set: a sign-in in between may have moved it.
  return setWhitelistedByGitHubId(db, only, allowed, { login: person.login });
}
