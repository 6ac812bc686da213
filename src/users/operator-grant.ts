import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database, Queryable } from '../db/client.ts';
import { deleteOperatorGrant, findOperatorIds, insertOperatorGrant } from '../db/operator-grants.ts';
import { lockPersonByGitHubId, type PersonIds } from '../db/person-by-github-id.ts';
import { findGitHubIdsByLogin } from '../db/users.ts';
import { AmbiguousLoginError, MAX_LISTED, type PersonRef } from './whitelist.ts';

/** The person after the change; `changed` is false when they were in that state already. */
export type OperatorGrantChange = PersonIds & { changed: boolean };

/** Several people carry the login (as for the whitelist): nothing changes, the operator names one by id. */
export class AmbiguousOperatorLoginError extends AmbiguousLoginError {
  constructor(login: string, githubIds: string[]) {
    super(login, githubIds, 'Name the person by GitHub id instead.');
  }
}

/**
 * Gives (or takes away) the operator console's grant, by GitHub login (case-insensitive) or
 * numeric GitHub id, with its change record in the same transaction. Null when no such person has
 * signed in yet (the grant needs their row). A login several rows carry changes nobody:
 * AmbiguousOperatorLoginError names their GitHub ids. The grant alone lets no one in: the console
 * also asks that they be admitted now (src/console/gate.ts).
 */
export async function setOperatorGrant(
  db: Database,
  person: PersonRef,
  granted: boolean,
  origin: ChangeOrigin,
): Promise<OperatorGrantChange | null> {
  return db.transaction(async (tx) => {
    const grantee = await findPerson(tx, person);
    if (!grantee) return null;
    const changed = granted ? await insertOperatorGrant(tx, grantee.id) : await deleteOperatorGrant(tx, grantee.id);
    // Already in that state: nothing changed, so nothing is recorded.
    if (changed)
      await recordChange(tx, origin, {
        action: granted ? 'users:grant-operator' : 'users:revoke-operator',
        subjectUserId: grantee.id,
        details: { github_id: grantee.githubUserId, login: grantee.githubLogin },
      });
    return { ...grantee, changed };
  });
}

async function findPerson(db: Queryable, person: PersonRef): Promise<PersonIds | null> {
  if (!('login' in person)) return lockPersonByGitHubId(db, person.githubId);
  const githubIds = await findGitHubIdsByLogin(db, person.login, MAX_LISTED + 1);
  const [only] = githubIds;
  if (only === undefined) return null;
  if (githubIds.length > 1) throw new AmbiguousOperatorLoginError(person.login, githubIds);
  const grantee = await lockPersonByGitHubId(db, only);
  // The login must still be theirs: a sign-in in between may have moved it to someone else.
  return grantee && grantee.githubLogin?.toLowerCase() === person.login.toLowerCase() ? grantee : null;
}

/** Which of these people hold the operator grant (for a page of `gateway users list`). */
export function operatorsAmong(db: Queryable, userIds: string[]): Promise<Set<string>> {
  return findOperatorIds(db, userIds);
}
