import { type Context, Hono } from 'hono';
import { membershipBounds } from '../admission/bounds.ts';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { primaryReads } from '../db/lookup-reads.ts';
import { revokeSession } from '../db/sessions.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { emitSessionEnded } from '../events/emit.ts';
import { deliverAfterResponse } from '../events/start-delivery.ts';
import type { AppEnv } from '../http/context.ts';
import { callingService } from '../http/service-auth.ts';
import { assertionJson, assertionSigner, signAssertion } from '../sessions/assertions.ts';
import { exchangeLoginCode } from '../sign-in/exchange-login-code.ts';
import { gatewayIssuer } from '../sign-in/github-credentials.ts';
import { forgetSession } from '../verify/cached-lookups.ts';
import { serve } from './declared-router.ts';
import { assertionRoute, exchangeRoute, revokeRoute } from './sessions.routes.ts';
import { verifyPerson } from './verify.ts';

/** Server-to-server: a service turns a login code into a session, and revokes sessions. */
export const sessionRoutes = new Hono<AppEnv>();

serve(sessionRoutes, exchangeRoute, async (c) => {
  const body = c.req.valid('json');
  const service = callingService(c);
  // Before the code is used up: a signing key that cannot sign fails the exchange with the code intact.
  const signer = await assertionSigner(c.var.config, gatewayIssuer(c.var.config, c.req.url));
  const { session, user } = await exchangeLoginCode(
    {
      db: c.var.database(),
      log: c.var.log,
      tokenSigning: (await c.var.sessionKeys()).tokenSigning,
      sessionTtlSeconds: c.var.config.SESSION_TTL_SECONDS,
      membership: membershipBounds(c.var.config),
      onPerson: (userId) => {
        c.var.audit.userId = userId;
      },
      deliver: (eventIds) => deliverAfterResponse(c, eventIds),
    },
    {
      serviceId: service.id,
      code: body.code,
      redirectUri: body.redirect_uri,
      codeVerifier: body.code_verifier,
    },
  );
  const assertion =
    signer &&
    (await signAssertion(
      signer,
      {
        audience: service.identifier,
        scopes: service.scopes,
        person: { id: user.id, githubId: user.githubUserId, login: user.githubLogin },
        sessionId: session.id,
        sessionExpiresAt: session.expiresAt,
      },
      c.var.config.ASSERTION_TTL_SECONDS,
    ));
  return c.json(
    {
      session: { token: session.token, expires_at: session.expiresAt.toISOString() },
      user: { id: user.id, github_id: user.githubUserId, login: user.githubLogin },
      assertion: assertionJson(assertion),
    },
    200,
  );
});

/**
 * A new assertion for a session that verifies (on the primary, as the GitHub token route does):
 * the answer carries verify's `valid` and `code`, so a refusal reads as /v1/verify's would.
 */
serve(sessionRoutes, assertionRoute, async (c) => {
  const body = c.req.valid('json');
  const service = callingService(c);
  const signer = await assertionSigner(c.var.config, gatewayIssuer(c.var.config, c.req.url));
  const outcome = await verifyPerson(c, { session: body.session }, primaryReads(c.var.database));
  const claims = outcome.valid ? await sessionClaimsOf(c, body.session) : null;
  const assertion =
    signer && outcome.person && claims
      ? await signAssertion(
          signer,
          {
            audience: service.identifier,
            scopes: service.scopes,
            person: outcome.person,
            sessionId: claims.sessionId,
            sessionExpiresAt: claims.expiresAt,
          },
          c.var.config.ASSERTION_TTL_SECONDS,
        )
      : null;
  return c.json({ valid: outcome.valid, code: outcome.code, assertion: assertionJson(assertion) }, 200);
});

/** The id and end of a session token verify has just accepted (its signature checked again: one HMAC). */
async function sessionClaimsOf(c: Context<AppEnv>, token: string) {
  const check = await verifySessionToken(token, (await c.var.sessionKeys()).tokenChecking);
  return check.ok ? check.claims : null;
}

serve(sessionRoutes, revokeRoute, async (c) => {
  const body = c.req.valid('json');
  const check = await verifySessionToken(body.session, (await c.var.sessionKeys()).tokenChecking, new Date(0));
  if (!check.ok) throw new GatewayError(check.code, 'input', 'That is not a session token this gateway issued.');
  const serviceId = callingService(c).id;
  const sessionId = check.claims.sessionId;
  // The revoke and the service's `session.ended` event commit together; it is sent after the response.
  const { revoked, events } = await c.var.database().transaction(async (tx) => {
    const revoked = await revokeSession(tx, sessionId, serviceId);
    if (!revoked) return { revoked, events: [] };
    const ended = { userId: revoked.userId, sessions: [{ id: sessionId, serviceId }], reason: 'revoked' as const };
    return { revoked, events: await emitSessionEnded(tx, ended) };
  });
  forgetSession(sessionId);
  deliverAfterResponse(c, events);
  if (revoked) c.var.audit.userId = revoked.userId;
  return c.json({ revoked: revoked !== null }, 200);
});
