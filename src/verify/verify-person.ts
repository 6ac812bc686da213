import { type SessionTokenCheck, verifySessionToken } from '../crypto/session-tokens.ts';
import type { SessionWithUser } from '../db/sessions.ts';
import type { SignedInUser } from '../db/users.ts';

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
}

/**
 * Who holds this session, and may they come in? The signature and expiry are checked without the
 * database; the session row (revocation) and the person's whitelist flag are read on every call
 * (through the isolate cache, whose TTL bounds how stale they can be).
 */
export async function verifySession(
  token: string,
  deps: {
    /** The current secret's token key, then previous secrets' (a rotation). */
    signingKeys: readonly CryptoKey[];
    serviceId: string;
    findSession: (id: string) => Promise<SessionWithUser | null>;
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
  return whitelistOutcome(person);
}

/** The same question by user id, for services that keep their own sessions. */
export async function verifyUser(
  userId: string,
  findUser: (id: string) => Promise<SignedInUser | null>,
): Promise<VerifyOutcome> {
  const user = await findUser(userId);
  if (!user) return { valid: false, code: 'unknown_user', person: null };
  return whitelistOutcome(toPerson(user));
}

function whitelistOutcome(person: VerifiedPerson): VerifyOutcome {
  return person.whitelisted ? { valid: true, code: 'ok', person } : { valid: false, code: 'not_whitelisted', person };
}

function toPerson(user: SignedInUser): VerifiedPerson {
  return { id: user.id, githubId: user.githubUserId, login: user.githubLogin, whitelisted: user.isWhitelisted };
}
