import { decideAdmission, type MembershipBounds } from '../admission/decide.ts';
import { type SessionTokenCheck, verifySessionToken } from '../crypto/session-tokens.ts';
import type { SessionWithUser } from '../db/sessions.ts';
import type { AdmittablePerson, SignedInUser } from '../db/users.ts';

/** Every outcome a service must be able to branch on (docs/api.md, "Verifying a person"). */
export const VERIFY_CODES = [
  'ok',
  'malformed_session',
  'invalid_session',
  'expired_session',
  'revoked_session',
  'foreign_session',
  'unknown_user',
  'not_whitelisted',
  /** Org and team rules admit, and the person's last membership check found them in none. */
  'not_a_member',
  /** Their admission rests on a membership GitHub has not confirmed within MEMBERSHIP_HARD_SECONDS. */
  'membership_unverified',
] as const;

export type VerifyCode = (typeof VERIFY_CODES)[number];

export interface VerifiedPerson {
  id: string;
  githubId: string;
  login: string | null;
  whitelisted: boolean;
}

export interface VerifyOutcome {
  valid: boolean;
  code: VerifyCode;
  person: VerifiedPerson | null;
  /**
   * The person whose membership check is older than the fresh bound (re-check after the
   * response), and the last attempt's time as this answer read it.
   */
  recheck?: { userId: string; seenAttemptedAt: Date | null };
}

/**
 * Who holds this session, and may they come in? The signature and expiry are checked without the
 * database; the session row (revocation) and the person's admission facts (whitelist flag, login
 * rule, last membership check) are read on every call, in one query (through the isolate cache,
 * whose TTL bounds how stale they can be).
 */
export async function verifySession(
  token: string,
  deps: {
    /** The current secret's token key, then previous secrets' (a rotation). */
    signingKeys: readonly CryptoKey[];
    serviceId: string;
    findSession: (id: string) => Promise<SessionWithUser | null>;
    membership: MembershipBounds;
    /** Verifies the token's signature and expiry (the route passes a cached verification). */
    checkToken?: (token: string, keys: readonly CryptoKey[], now: Date) => Promise<SessionTokenCheck>;
  },
  now = new Date(),
): Promise<VerifyOutcome> {
  const check = await (deps.checkToken ?? verifySessionToken)(token, deps.signingKeys, now);
  if (!check.ok) return { valid: false, code: check.code, person: null };
  const session = await deps.findSession(check.claims.sessionId);
  if (!session) return { valid: false, code: 'invalid_session', person: null };
  const person = toPerson(session.user);
  // A session belongs to the service it was issued to (or to the gateway's own landing).
  if (session.serviceId !== deps.serviceId) return { valid: false, code: 'foreign_session', person: null };
  if (session.revokedAt !== null) return { valid: false, code: 'revoked_session', person };
  if (session.expiresAt.getTime() <= now.getTime()) return { valid: false, code: 'expired_session', person };
  return admissionOutcome(session.user, deps.membership, now);
}

/** The same question by user id, for services that keep their own sessions. */
export async function verifyUser(
  userId: string,
  deps: { findUser: (id: string) => Promise<AdmittablePerson | null>; membership: MembershipBounds },
  now = new Date(),
): Promise<VerifyOutcome> {
  const user = await deps.findUser(userId);
  if (!user) return { valid: false, code: 'unknown_user', person: null };
  return admissionOutcome(user, deps.membership, now);
}

function admissionOutcome(user: AdmittablePerson, bounds: MembershipBounds, now: Date): VerifyOutcome {
  const person = toPerson(user);
  const decision = decideAdmission(user.admission, bounds, now);
  const recheck = decision.recheckDue
    ? { recheck: { userId: user.id, seenAttemptedAt: user.admission.attemptedAt } }
    : {};
  return decision.admitted
    ? { valid: true, code: 'ok', person, ...recheck }
    : { valid: false, code: decision.code, person, ...recheck };
}

function toPerson(user: SignedInUser): VerifiedPerson {
  return { id: user.id, githubId: user.githubUserId, login: user.githubLogin, whitelisted: user.isWhitelisted };
}
