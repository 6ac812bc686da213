import type { SignedInUser } from '../db/users.ts';
import { AmbiguousLoginError, type PersonRef, type WhitelistChange } from './whitelist.ts';

/** What became of one person named in a whitelist command. */
export type WhitelistOutcome =
  | { person: PersonRef; outcome: 'changed' | 'unchanged'; user: SignedInUser }
  /** No one by this login or id has signed in yet. */
  | { person: PersonRef; outcome: 'never_signed_in' }
  /** Several people carry the login; nothing changed for any of them. */
  | { person: PersonRef; outcome: 'ambiguous'; error: AmbiguousLoginError };

/**
 * Changes each person's whitelist flag with `setOne` (setWhitelisted, with the caller's flag and
 * origin), one after the other, each on its own: one that cannot be changed (never signed in, an
 * ambiguous login) is reported and the others still are. Any other failure (the database) stops
 * the run and is thrown.
 */
export async function setWhitelistedEach(
  people: PersonRef[],
  setOne: (person: PersonRef) => Promise<WhitelistChange | null>,
): Promise<WhitelistOutcome[]> {
  const outcomes: WhitelistOutcome[] = [];
  for (const person of people) {
    try {
      const changed = await setOne(person);
      outcomes.push(
        changed
          ? { person, outcome: changed.changed ? 'changed' : 'unchanged', user: changed }
          : { person, outcome: 'never_signed_in' },
      );
    } catch (error) {
      if (!(error instanceof AmbiguousLoginError)) throw error;
      outcomes.push({ person, outcome: 'ambiguous', error });
    }
  }
  return outcomes;
}
