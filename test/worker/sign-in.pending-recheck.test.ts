import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { membershipChecks, users } from '../../drizzle/schema.ts';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { allowByRule } from '../../src/admission/manage-rules.ts';
import { PENDING_COOKIE } from '../../src/sign-in/pending.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { SERVICE_REDIRECT } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callbackAnswer,
  cookiesOf,
  pendingPage,
  startSignIn,
  uniqueLogin,
} from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * The pending page of a person an org rule would admit: reloading it asks GitHub again (with the
 * person's stored token) once the last attempt is older than the re-check's retry interval. Its
 * own file: the org rule would change what every other sign-in here is refused with.
 */
let database: TestDatabase;
const control = () => standInControl(env.GITHUB_API_URL);

beforeAll(async () => {
  database = await createTestDatabase();
});

/**
 * A person refused under an org rule (they are in no allowed org) and sent to /pending, through a
 * new service: the pending cookie, the link they started from, their org and user id.
 */
async function pendingUnderOrgRule(prefix: string) {
  const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
  const [org, login] = [uniqueLogin('org'), uniqueLogin(prefix)];
  await control().setMembership({ org, login: uniqueLogin('someone-else') });
  await database.use((db) =>
    allowByRule(
      { db, github: { apiUrl: env.GITHUB_API_URL, oauthUrl: env.GITHUB_OAUTH_URL } },
      { kind: 'org', org },
      TEST_OPERATOR,
    ),
  );
  const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}&state=s1`;
  const started = await startSignIn(database.env, query);
  const answer = await callbackAnswer(
    database.env,
    await authorizeAtGitHub(started.authorizeUrl, login),
    started.cookie,
  );
  expect(answer.headers.get('location')).toBe('/pending');
  const [user] = await database.use((db) =>
    db.select({ id: users.id }).from(users).where(eq(users.githubLogin, login)),
  );
  return { org, login, query, userId: user?.id ?? '', pendingCookie: cookiesOf(answer).get(PENDING_COOKIE) ?? '' };
}

/** Makes the person's last membership check a minute old: past the re-check's retry interval (30 s). */
function checkAMinuteAgo(userId: string) {
  const longAgo = new Date(Date.now() - 60_000);
  return database.use((db) =>
    db
      .update(membershipChecks)
      .set({ checkedAt: longAgo, attemptedAt: longAgo })
      .where(eq(membershipChecks.userId, userId)),
  );
}

describe('the pending page of a person an org rule would admit', () => {
  it('says not_a_member, and once they join the org a reload asks GitHub again and continues', async () => {
    const { org, login, query, userId, pendingCookie } = await pendingUnderOrgRule('joiner');
    const page = await pendingPage(database.env, pendingCookie);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('gateway_error=not_a_member');

    await control().setMembership({ org, login });
    // The sign-in's own check was just now: the re-check waits its retry interval (30 s).
    await checkAMinuteAgo(userId);
    const continued = await pendingPage(database.env, pendingCookie);
    expect(continued.status).toBe(303);
    expect(continued.headers.get('location')).toBe(`/login${query}`);
  });

  it("answers a fault of the gateway's own (a stored token no key opens) with the generic page, not its operator message", async () => {
    const { userId, pendingCookie } = await pendingUnderOrgRule('unreadable');
    // A token sealed under a key this gateway no longer has, and a check due again.
    const foreign = ['aa'.repeat(32), 'bb'.repeat(12), 'cc'.repeat(16), 'dd'.repeat(20)].join(':');
    await database.use((db) =>
      db.update(users).set({ accessToken: foreign, expiresAt: null }).where(eq(users.id, userId)),
    );
    await checkAMinuteAgo(userId);
    const page = await pendingPage(database.env, pendingCookie);
    const text = await page.text();
    expect(page.status).toBe(500);
    expect(text).toContain('internal_error');
    expect(text).not.toContain(userId);
    expect(text).not.toContain('key');
  });
});
