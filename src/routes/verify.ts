import { type Context, Hono } from 'hono';
import type * as z from 'zod';
import { TokenCipherError } from '../crypto/token-cipher.ts';
import { primaryReads, type StaleReads } from '../db/lookup-reads.ts';
import { hasSignedInThrough } from '../db/sessions.ts';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { gitHubCredentials } from '../signin/github-credentials.ts';
import { FreshTokenError, freshGitHubAccessToken } from '../users/fresh-github-token.ts';
import { cachedSession, cachedTokenCheck, cachedUser } from '../verify/cached-lookups.ts';
import { type VerifyOutcome, verifySession, verifyUser } from '../verify/verify-person.ts';
import { serve } from './declared-router.ts';
import { githubTokenRoute, type personBody, verifyRoute } from './verify.routes.ts';

async function verifyPerson(
  c: Context<AppEnv>,
  body: z.infer<typeof personBody>,
  read: StaleReads,
): Promise<VerifyOutcome> {
  const ttl = c.var.config.VERIFY_CACHE_SECONDS;
  const outcome = body.session
    ? await verifySession(body.session, {
        signingKeys: (await c.var.sessionKeys()).tokenChecking,
        serviceId: c.var.service.id,
        findSession: (id) => cachedSession(read, id, ttl),
        checkToken: cachedTokenCheck(ttl),
      })
    : await verifyUser(body.user_id ?? '', (id) => cachedUser(read, id, ttl));
  c.var.audit.code = outcome.code;
  c.var.audit.userId = outcome.person?.id ?? null;
  return outcome;
}

/** The edge verify API and the GitHub token endpoint (docs/api.md). */
export const verifyRoutes = new Hono<AppEnv>();

serve(verifyRoutes, verifyRoute, async (c) => {
  const outcome = await verifyPerson(c, c.req.valid('json'), c.var.staleReads);
  const person = outcome.person;
  return c.json(
    {
      valid: outcome.valid,
      code: outcome.code,
      user: person
        ? { id: person.id, github_id: person.githubId, login: person.login, whitelisted: person.whitelisted }
        : null,
      scopes: c.var.service.scopes,
    },
    200,
  );
});

serve(verifyRoutes, githubTokenRoute, async (c) => {
  c.header('Cache-Control', 'no-store');
  const body = c.req.valid('json');
  // A session token already belongs to this service (foreign_session otherwise). A bare user id
  // must be someone the service has standing access to (signed in through it, not signed out
  // of it, its latest session expired less than STANDING_ACCESS_SECONDS ago): a service acts on
  // GitHub only for people who came to it lately, not for anyone whose id it learns. Checked
  // first, so such a service learns nothing else about an id.
  const standing = c.var.config.STANDING_ACCESS_SECONDS;
  if (
    body.user_id !== undefined &&
    !(await hasSignedInThrough(c.var.database(), body.user_id, c.var.service.id, standing))
  ) {
    throw new ApiError(
      403,
      'foreign_user',
      'This person has not signed in through your service lately (or has signed out of it); no token is handed out.',
    );
  }
  // On the primary: a token goes out only to a person the primary says is signed in and allowed.
  const outcome = await verifyPerson(c, body, primaryReads(c.var.database));
  if (!outcome.valid || !outcome.person) {
    throw new ApiError(403, outcome.code, 'This person is not signed in and allowed in; no token is handed out.');
  }
  // Loaded outside the try: a key that cannot be loaded is a misconfiguration (500), not this person's token.
  const keyring = await c.var.tokenKeyring();
  try {
    const token = await freshGitHubAccessToken(
      {
        db: c.var.database(),
        keyring,
        github: gitHubCredentials(c.var.config),
        log: c.var.log,
      },
      outcome.person.id,
    );
    return c.json(
      {
        access_token: token.accessToken,
        expires_at: token.expiresAt?.toISOString() ?? null,
        refreshed: token.refreshed,
      },
      200,
    );
  } catch (error) {
    if (error instanceof FreshTokenError) throw new ApiError(409, error.code, error.message);
    if (error instanceof TokenCipherError) {
      // The operator's problem (a missing previous key, or a token the old system encrypted), the
      // person's remedy: a new sign-in writes new tokens. Logged by code only, never the value.
      c.var.log.error('github_token.unreadable', { userId: outcome.person.id, code: error.code });
      throw new ApiError(
        409,
        'token_unreadable',
        'The stored GitHub token for this person cannot be decrypted here; they must sign in again.',
      );
    }
    throw error;
  }
});
