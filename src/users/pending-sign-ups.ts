import type { MembershipBounds } from '../admission/decide.ts';
import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database } from '../db/client.ts';
import { findPendingDestinations, findPendingDismissals, upsertPendingDismissal } from '../db/pending-sign-ups.ts';
import { lockPersonByGitHubId, type PersonIds } from '../db/person-by-github-id.ts';
import { listPeople, type Person } from './list-people.ts';

/** A person who signed in and is not admitted, as the console's pending list shows them. */
export interface PendingSignUp {
  person: Person;
  /** The service their latest refused sign-in was on its way to; null: the gateway itself, or not known. */
  goingTo: string | null;
}

/**
 * The people waiting to be let in, newest sign-in first (listPeople's pending list, decided as
 * verify decides), without those an operator dismissed since their last sign-in, each with the
 * service they were going to (from their latest `sign-in:pending` record). `more`: the first
 * `limit` pending people did not cover them all.
 */
export async function listPendingSignUps(
  db: Database,
  bounds: MembershipBounds,
  limit: number,
  now = new Date(),
): Promise<{ pending: PendingSignUp[]; more: boolean }> {
  const page = await listPeople(db, { pending: true, limit }, bounds, now);
  const ids = page.people.map((person) => person.id);
  const [dismissals, destinations] = await Promise.all([
    findPendingDismissals(db, ids),
    findPendingDestinations(db, ids),
  ]);
  const pending = page.people
    .filter((person) => !dismissedSinceSignIn(person, dismissals.get(person.id)))
    .map((person) => ({ person, goingTo: destinations.get(person.id) ?? null }));
  return { pending, more: page.nextCursor !== null };
}

/** A dismissal counts until the person signs in again after it (then they are asking again). */
function dismissedSinceSignIn(person: Person, dismissedAt: Date | undefined): boolean {
  if (!dismissedAt) return false;
  return person.lastSignInAt === null || person.lastSignInAt.getTime() <= dismissedAt.getTime();
}

/**
 * Hides a pending person from the console's list until they sign in again, with its change record
 * in the same transaction. Lets no one in and refuses no one: it only tidies the list. Null when
 * nobody with that GitHub id has signed in.
 */
export async function dismissPendingSignUp(
  db: Database,
  githubId: string,
  origin: ChangeOrigin,
  now = new Date(),
): Promise<PersonIds | null> {
  return db.transaction(async (tx) => {
    const person = await lockPersonByGitHubId(tx, githubId);
    if (!person) return null;
    await upsertPendingDismissal(tx, person.id, now);
    await recordChange(tx, origin, {
      action: 'users:dismiss-pending',
      subjectUserId: person.id,
      details: { github_id: person.githubUserId, login: person.githubLogin },
    });
    return person;
  });
}
