import { and, eq, ne, type SQL, sql } from 'drizzle-orm';
import { type User, users } from '../../drizzle/schema.ts';
import type { Database, Queryable } from './client.ts';
import { type AdmissionFacts, admissionFactColumns, membershipCheckJoin } from './membership-checks.ts';

/** A person as sign-in, verify and the whitelist see them: never their tokens. */
export type SignedInUser = Pick<User, 'id' | 'githubUserId' | 'githubLogin' | 'isWhitelisted'>;

export const signedInColumns = {
  id: users.id,
  githubUserId: users.githubUserId,
  githubLogin: users.githubLogin,
  isWhitelisted: users.isWhitelisted,
};

/** GitHub logins are case-insensitive; `users_github_login_lower_idx` serves this comparison. */
function hasLogin(login: string): SQL {
  return eq(sql`lower(${users.githubLogin})`, login.toLowerCase());
}

/**
 * Finds or creates the person by GitHub id and records their current login, in one statement
 * that is safe under concurrent sign-ins of the same person (one row, whoever wins). The tokens
 * are written next, once the row's id (part of their encryption context) is known.
 *
 * GitHub logins can be renamed and then taken by someone else. A sign-in proves the login is this
 * person's now, so the same statement clears it from any other row: otherwise whitelisting by
 * login could reach a stale row, a different person. The sign-in's time is kept (last_sign_in_at).
 */
export async function upsertGitHubUser(
  db: Database,
  githubUserId: string,
  githubLogin: string,
  now = new Date(),
): Promise<SignedInUser> {
  const staleLogins = db.$with('stale_logins').as(
    db
      .update(users)
      .set({ githubLogin: null })
      .where(and(hasLogin(githubLogin), ne(users.githubUserId, githubUserId)))
      .returning({ id: users.id }),
  );
  // Every sign-in is recorded, admitted or not: `gateway users list --pending` orders by it.
  const [row] = await db
    .with(staleLogins)
    .insert(users)
    .values({ githubUserId, githubLogin, lastSignInAt: now })
    .onConflictDoUpdate({
      target: users.githubUserId,
      set: { githubLogin: sql`excluded.github_login`, lastSignInAt: sql`excluded.last_sign_in_at` },
    })
    .returning(signedInColumns);
  if (!row) throw new Error('upsert returned no row');
  return row;
}

/** A person with what decides their admission (src/admission/decide.ts). */
export type AdmittablePerson = SignedInUser & { admission: AdmissionFacts };

/** The person and their admission facts in one round trip. */
export async function findUserById(db: Queryable, id: string): Promise<AdmittablePerson | null> {
  const [row] = await db
    .select({ ...signedInColumns, ...admissionFactColumns() })
    .from(users)
    .leftJoin(...membershipCheckJoin)
    .where(eq(users.id, id));
  return row ? admittablePerson(row) : null;
}

/** Splits a row of signedInColumns and admissionFactColumns into the person and their facts. */
export function admittablePerson(row: SignedInUser & AdmissionFacts): AdmittablePerson {
  const { id, githubUserId, githubLogin, isWhitelisted, ...facts } = row;
  return { id, githubUserId, githubLogin, isWhitelisted, admission: { ...facts, isWhitelisted } };
}

/** The GitHub ids of the people carrying this login (case-insensitive), in id order, at most `limit`. */
export async function findGitHubIdsByLogin(db: Queryable, login: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ githubUserId: users.githubUserId })
    .from(users)
    .where(hasLogin(login))
    .orderBy(users.githubUserId)
    .limit(limit);
  return rows.map((row) => row.githubUserId);
}

/**
 * Sets the person's whitelist flag, found by GitHub id; with `login`, only while that login is
 * still theirs (a sign-in may have moved it since it was looked up). Null when no row matched.
 */
export async function setWhitelistedByGitHubId(
  db: Queryable,
  githubUserId: string,
  allowed: boolean,
  options: { login?: string } = {},
): Promise<(SignedInUser & { changed: boolean }) | null> {
  const byId = eq(users.githubUserId, githubUserId);
  const person = options.login === undefined ? byId : and(byId, hasLogin(options.login));
  // Only a row in the other state is written, so a repeat leaves updated_at alone and says so.
  const [row] = await db
    .update(users)
    .set({ isWhitelisted: allowed })
    .where(and(person, ne(users.isWhitelisted, allowed)))
    .returning(signedInColumns);
  if (row) return { ...row, changed: true };
  const [unchanged] = await db.select(signedInColumns).from(users).where(person);
  return unchanged ? { ...unchanged, changed: false } : null;
}
