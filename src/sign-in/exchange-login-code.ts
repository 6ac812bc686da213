import { decideAdmission, type MembershipBounds } from '../admission/decide.ts';
import { constantTimeEqual, sha256, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { signSessionToken } from '../crypto/session-tokens.ts';
import type { Database } from '../db/client.ts';
import { useLoginCode } from '../db/login-codes.ts';
import { createSession, SessionIdTakenError } from '../db/sessions.ts';
import { findUserById } from '../db/users.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { emitSessionEnded } from '../events/emit.ts';
import type { Logger } from '../http/logger.ts';
import { forgetSession } from '../verify/cached-lookups.ts';

/**
 * The exchange is the last step of a sign-in through a service (the callback issued the code, with
 * the sign-in's redirect_uri and PKCE challenge), so it lives with the sign-in flow.
 */

export type ExchangeErrorCode = 'invalid_code' | 'invalid_code_verifier' | 'redirect_uri_mismatch' | 'not_whitelisted';

/** Why a login code did not become a session. */
export class ExchangeError extends GatewayError<ExchangeErrorCode> {
  constructor(code: ExchangeErrorCode, message: string) {
    super(code, code === 'not_whitelisted' ? 'forbidden' : 'input', message);
  }
}

const invalidCode = () =>
  new ExchangeError(
    'invalid_code',
    'The login code is unknown, expired, already used, or not yours. Sign the person in again.',
  );

export interface ExchangeDeps {
  db: Database;
  log: Logger;
  /** Signs the service's session token. */
  tokenSigning: CryptoKey;
  sessionTtlSeconds: number;
  membership: MembershipBounds;
  /** Told whose code it was, once that is known (the audit row names them, even on a refusal). */
  onPerson?: (userId: string) => void;
  /** Starts delivering the events the exchange wrote (a replay's `session.ended`) after the response. */
  deliver?: (eventIds: string[]) => void;
}

export interface ExchangeRequest {
  serviceId: string;
  code: string;
  redirectUri: string;
  codeVerifier?: string | undefined;
}

export interface ExchangedSession {
  session: { id: string; token: string; expiresAt: Date };
  user: { id: string; githubUserId: string; githubLogin: string | null };
}

/**
 * Turns a login code into a session of the calling service's: the code must be live, this
 * service's, used once, with the sign-in's redirect_uri (and code_verifier, when it sent a
 * challenge), and its person still admitted.
 */
export async function exchangeLoginCode(deps: ExchangeDeps, request: ExchangeRequest): Promise<ExchangedSession> {
  const { db, log } = deps;
  const sessionId = crypto.randomUUID();
  const events: string[] = [];
  const use = await useLoginCode(
    db,
    request.code,
    { sessionId, serviceId: request.serviceId },
    new Date(),
    (tx, ended) =>
      // The service learns that session ended, with the revoke (RFC 6749 section 4.1.2).
      emitSessionEnded(tx, {
        userId: ended.userId,
        sessions: [{ id: ended.sessionId, serviceId: ended.serviceId }],
        reason: 'code_reused',
      }).then((ids) => void events.push(...ids)),
  );
  if (use.kind === 'replayed') {
    // Someone else holds this code too: the session its first use issued is not to be trusted.
    forgetSession(use.revokedSession);
    log.warn('login_code.replayed', { serviceId: request.serviceId, revokedSession: use.revokedSession });
    deps.deliver?.(events);
  }
  const granted = use.kind === 'granted' ? use.grant : null;
  // Unknown, used, expired, or another service's: one answer, so codes cannot be probed.
  if (!granted || granted.serviceId !== request.serviceId || granted.expiresAt.getTime() <= Date.now()) {
    throw invalidCode();
  }
  if (!(await verifierMatches(granted.codeChallenge, request.codeVerifier))) {
    throw new ExchangeError(
      'invalid_code_verifier',
      granted.codeChallenge === null
        ? 'This sign-in sent no code_challenge, so the exchange takes no code_verifier. Sign the person in again.'
        : 'code_verifier does not match the code_challenge the sign-in started with. Sign the person in again.',
    );
  }
  if (request.redirectUri !== granted.redirectUri) {
    throw new ExchangeError('redirect_uri_mismatch', 'redirect_uri differs from the one the sign-in started with.');
  }
  deps.onPerson?.(granted.userId);
  const user = await findUserById(db, granted.userId);
  // Admitted as verify would say (whitelist, a rule): an org membership was checked at sign-in.
  if (!user || !decideAdmission(user.admission, deps.membership).admitted) {
    throw new ExchangeError('not_whitelisted', 'This person is no longer allowed in.');
  }
  const session = await createSession(db, {
    id: sessionId,
    userId: user.id,
    serviceId: request.serviceId,
    ttlSeconds: deps.sessionTtlSeconds,
  }).catch((error: unknown) => {
    // A replay of this code, while this exchange ran, already wrote this session revoked.
    if (error instanceof SessionIdTakenError) throw invalidCode();
    throw error;
  });
  const token = await signSessionToken({ sessionId: session.id, expiresAt: session.expiresAt }, deps.tokenSigning);
  return {
    session: { id: session.id, token, expiresAt: session.expiresAt },
    user: { id: user.id, githubUserId: user.githubUserId, githubLogin: user.githubLogin },
  };
}

/**
 * PKCE S256 (RFC 7636 section 4.6): BASE64URL(SHA-256(verifier)) equals the challenge. Without a
 * challenge there must be no verifier either: a verifier then would mean a client that believes
 * in a protection it does not have (a downgrade), so it is refused rather than ignored.
 */
async function verifierMatches(challenge: string | null, verifier: string | undefined): Promise<boolean> {
  if (challenge === null) return verifier === undefined;
  if (verifier === undefined) return false;
  return constantTimeEqual(utf8(toBase64Url(await sha256(verifier))), utf8(challenge));
}
