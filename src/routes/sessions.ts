import { Hono } from 'hono';
import { membershipBounds } from '../admission/bounds.ts';
import { verifySessionToken } from '../crypto/session-tokens.ts';
import { revokeSession } from '../db/sessions.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from '../http/context.ts';
import { callingService } from '../http/service-auth.ts';
import { exchangeLoginCode } from '../sign-in/exchange-login-code.ts';
import { forgetSession } from '../verify/cached-lookups.ts';
import { serve } from './declared-router.ts';
import { exchangeRoute, revokeRoute } from './sessions.routes.ts';

/** Server-to-server: a service turns a login code into a session, and revokes sessions. */
export const sessionRoutes = new Hono<AppEnv>();

serve(sessionRoutes, exchangeRoute, async (c) => {
  const body = c.req.valid('json');
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
    },
    {
      serviceId: callingService(c).id,
      code: body.code,
      redirectUri: body.redirect_uri,
      codeVerifier: body.code_verifier,
    },
  );
  return c.json(
    {
      session: { token: session.token, expires_at: session.expiresAt.toISOString() },
      user: { id: user.id, github_id: user.githubUserId, login: user.githubLogin },
    },
    200,
  );
});

serve(sessionRoutes, revokeRoute, async (c) => {
  const body = c.req.valid('json');
  const check = await verifySessionToken(body.session, (await c.var.sessionKeys()).tokenChecking, new Date(0));
  if (!check.ok) throw new GatewayError(check.code, 'input', 'That is not a session token this gateway issued.');
  const revoked = await revokeSession(c.var.database(), check.claims.sessionId, callingService(c).id);
  forgetSession(check.claims.sessionId);
  if (revoked) c.var.audit.userId = revoked.userId;
  return c.json({ revoked: revoked !== null }, 200);
});
