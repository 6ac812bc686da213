import { Hono } from 'hono';
import { constantTimeEqual, sha256, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { signSessionToken, verifySessionToken } from '../crypto/session-tokens.ts';
import { useLoginCode } from '../db/login-codes.ts';
import { createSession, revokeSession, SessionIdTakenError } from '../db/sessions.ts';
import { findUserById } from '../db/users.ts';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { forgetSession } from '../verify/cached-lookups.ts';
import { serve } from './declared-router.ts';
import { exchangeRoute, revokeRoute } from './sessions.routes.ts';

const invalidCode = () =>
  new ApiError(
    400,
    'invalid_code',
    'The login code is unknown, expired, already used, or not yours. Sign the person in again.',
  );

/** Server-to-server: a service turns a login code into a session, and revokes sessions. */
export const sessionRoutes = new Hono<AppEnv>();

serve(sessionRoutes, exchangeRoute, async (c) => {
  const body = c.req.valid('json');
  const db = c.var.database();
  const service = c.var.service;
  const sessionId = crypto.randomUUID();
  const use = await useLoginCode(db, body.code, { sessionId, serviceId: service.id });
  if (use.kind === 'replayed') {
    // Someone else holds this code too: the session its first use issued is not to be trusted.
    forgetSession(use.revokedSession);
    c.var.log.warn('login_code.replayed', { serviceId: service.id, revokedSession: use.revokedSession });
  }
  const granted = use.kind === 'granted' ? use.grant : null;
  // Unknown, used, expired, or another service's: one answer, so codes cannot be probed.
  if (!granted || granted.serviceId !== service.id || granted.expiresAt.getTime() <= Date.now()) {
    throw invalidCode();
  }
  if (!(await verifierMatches(granted.codeChallenge, body.code_verifier))) {
    throw new ApiError(
      400,
      'invalid_code_verifier',
      granted.codeChallenge === null
        ? 'This sign-in sent no code_challenge, so the exchange takes no code_verifier. Sign the person in again.'
        : 'code_verifier does not match the code_challenge the sign-in started with. Sign the person in again.',
    );
  }
  if (body.redirect_uri !== granted.redirectUri) {
    throw new ApiError(400, 'redirect_uri_mismatch', 'redirect_uri differs from the one the sign-in started with.');
  }
  c.var.audit.userId = granted.userId;
  const user = await findUserById(db, granted.userId);
  if (!user?.isWhitelisted) throw new ApiError(403, 'not_whitelisted', 'This person is no longer allowed in.');
  const session = await createSession(db, {
    id: sessionId,
    userId: user.id,
    serviceId: service.id,
    ttlSeconds: c.var.config.SESSION_TTL_SECONDS,
  }).catch((error: unknown) => {
    // A replay of this code, while this exchange ran, already wrote this session revoked.
    if (error instanceof SessionIdTakenError) throw invalidCode();
    throw error;
  });
  const token = await signSessionToken(
    { sessionId: session.id, expiresAt: session.expiresAt },
    (await c.var.sessionKeys()).tokenSigning,
  );
  return c.json(
    {
      session: { token, expires_at: session.expiresAt.toISOString() },
      user: { id: user.id, github_id: user.githubUserId, login: user.githubLogin },
    },
    200,
  );
});

serve(sessionRoutes, revokeRoute, async (c) => {
  const body = c.req.valid('json');
  const check = await verifySessionToken(body.session, (await c.var.sessionKeys()).tokenChecking, new Date(0));
  if (!check.ok) throw new ApiError(400, check.code, 'That is not a session token this gateway issued.');
  const revoked = await revokeSession(c.var.database(), check.claims.sessionId, c.var.service.id);
  forgetSession(check.claims.sessionId);
  if (revoked) c.var.audit.userId = revoked.userId;
  return c.json({ revoked: revoked !== null }, 200);
});

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
