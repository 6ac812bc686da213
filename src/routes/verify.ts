import { type Context, Hono } from 'hono';
import type * as z from 'zod';
import { membershipBounds } from '../admission/bounds.ts';
import { recheckMembership } from '../admission/recheck-membership.ts';
import { type LookupReads, primaryReads } from '../db/lookup-reads.ts';
import { deliveryDeps, startDelivery } from '../events/start-delivery.ts';
import type { AppEnv } from '../http/context.ts';
import { callingService } from '../http/service-auth.ts';
import { gitHubCredentials } from '../sign-in/github-credentials.ts';
import { handOutGitHubToken } from '../users/hand-out-github-token.ts';
import { cachedSession, cachedTokenCheck, cachedUser, type ReadAlong } from '../verify/cached-lookups.ts';
import { type VerifyOutcome, verifySession, verifyUser } from '../verify/verify-person.ts';
import { serve } from './declared-router.ts';
import { githubTokenRoute, type personBody, verifyRoute } from './verify.routes.ts';

/**
 * The person a request names, verified for the calling service; its audit row gets the outcome
 * (also the assertion refresh's check, src/routes/sessions.ts). `readAlong`: the session or person
 * the key's lookup read (only /v1/verify's, through the same `read`).
 */
export async function verifyPerson(
  c: Context<AppEnv>,
  body: z.infer<typeof personBody>,
  read: LookupReads,
  readAlong?: ReadAlong,
): Promise<VerifyOutcome> {
  const ttl = c.get('config').VERIFY_CACHE_SECONDS;
  const membership = membershipBounds(c.get('config'));
  const outcome = body.session
    ? await verifySession(body.session, {
        signingKeys: (await c.get('sessionKeys')()).tokenChecking,
        serviceId: callingService(c).id,
        findSession: (id) => cachedSession(read, id, ttl, readAlong),
        checkToken: cachedTokenCheck(ttl),
        membership,
      })
    : await verifyUser(body.user_id ?? '', { findUser: (id) => cachedUser(read, id, ttl, readAlong), membership });
  c.get('audit').code = outcome.code;
  c.get('audit').userId = outcome.person?.id ?? null;
  if (outcome.recheck) recheckAfterResponse(c, outcome.recheck);
  return outcome;
}

/**
 * Starts the person's membership re-check as background work: the answer does not wait for it
 * (it settles before the request's database pools close).
 */
function recheckAfterResponse(c: Context<AppEnv>, due: { userId: string; seenAttemptedAt: Date | null }): void {
  c.get('background')(
    recheckMembership(
      {
        db: c.get('database')(),
        keyring: c.get('tokenKeyring'),
        github: gitHubCredentials(c.get('config')),
        log: c.get('log'),
        deliver: (eventIds) => startDelivery({ queue: c.env.EVENTS_QUEUE, deps: deliveryDeps(c) }, eventIds),
      },
      due.userId,
      due.seenAttemptedAt,
    ),
  );
}

/** The edge verify API and the GitHub token endpoint (docs/api.md). */
export const verifyRoutes = new Hono<AppEnv>();

serve(verifyRoutes, verifyRoute, async (c) => {
  const outcome = await verifyPerson(c, c.req.valid('json'), c.get('staleReads'), c.get('readAlong'));
  const person = outcome.person;
  return c.json(
    {
      valid: outcome.valid,
      code: outcome.code,
      user: person
        ? { id: person.id, github_id: person.githubId, login: person.login, whitelisted: person.whitelisted }
        : null,
      scopes: callingService(c).scopes,
    },
    200,
  );
});

serve(verifyRoutes, githubTokenRoute, async (c) => {
  c.header('Cache-Control', 'no-store');
  const body = c.req.valid('json');
  const token = await handOutGitHubToken(
    {
      db: c.get('database')(),
      keyring: c.get('tokenKeyring'),
      github: gitHubCredentials(c.get('config')),
      log: c.get('log'),
      standingAccessSeconds: c.get('config').STANDING_ACCESS_SECONDS,
      // On the primary: a token goes out only to a person the primary says is signed in and allowed.
      verifyOnPrimary: () => verifyPerson(c, body, primaryReads(c.get('database'))),
    },
    { serviceId: callingService(c).id, userId: body.user_id },
  );
  return c.json(
    { access_token: token.accessToken, expires_at: token.expiresAt?.toISOString() ?? null, refreshed: token.refreshed },
    200,
  );
});
