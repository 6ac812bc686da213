import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { assertionKeys } from '../sessions/assertions.ts';
import { serve } from './declared-router.ts';
import { jwksRoute } from './jwks.routes.ts';

/** The JWK Set a service verifies assertions against (docs/api.md, "Assertions verified offline"). */
export const jwksRoutes = new Hono<AppEnv>();

/**
 * Public keys only, so any cache may keep them: five minutes, the longest an assertion lives, so
 * a verifier fetches the set about once per assertion lifetime, and a key removed at the end of a
 * rotation is gone from every honest cache five minutes later (docs/deploy.md).
 */
export const JWKS_CACHE_CONTROL = 'public, max-age=300';

serve(jwksRoutes, jwksRoute, async (c) => {
  const { jwks } = await assertionKeys(c.var.config);
  c.header('Cache-Control', JWKS_CACHE_CONTROL);
  return c.json(jwks, 200);
});
