import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { users } from '../../drizzle/schema.ts';
import { pickStandInUser } from '../../scripts/lib/dev/stand-in-github-picker.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { GITHUB_TIMEOUT_MS } from '../../src/github/client.ts';
import { createLogger } from '../../src/http/logger.ts';
import { FreshTokenError, freshGitHubAccessToken } from '../../src/users/fresh-github-token.ts';
import { OTHER_STAND_IN_APPS, TEST_CALLBACK_URL } from '../support/stand-in-client.ts';
import { authorizeAtGitHub, callback, signIn, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The gateway configured as another app registered at the stand-in GitHub. */
function asApp(app: { clientId: string; clientSecret: string }) {
  return { ...database.env, GITHUB_CLIENT_ID: app.clientId, GITHUB_CLIENT_SECRET: app.clientSecret };
}

function githubRefusedLines(logged: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return logged.mock.calls
    .map((call) => String(call[0]))
    .filter((line) => line.includes('sign_in.github_refused'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function expectErrorPage(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(await response.text()).toContain(`Error code: ${code}`);
  expect(response.headers.get('location')).toBeNull();
}

describe('the client credentials', () => {
  it('work end to end with a client secret containing + / = % : ~ and a space (HTTP Basic form-urlencoded, RFC 6749 §2.3.1)', async () => {
    const bindings = asApp(OTHER_STAND_IN_APPS.awkwardSecret);
    const response = await signIn(bindings, uniqueLogin('awkward'));
    expect(response.status).toBe(403); // signed in, not yet whitelisted: the access-pending page
    expect(await response.text()).toContain('Access pending');
  });
});

describe('a standards-conformant OAuth server', () => {
  it('answering 400 invalid_grant to the code exchange is github_bad_verification_code, and its code is logged', async () => {
    const bindings = asApp(OTHER_STAND_IN_APPS.standardErrors);
    const login = uniqueLogin('stdgrant');
    const first = await startSignIn(bindings);
    const back = await authorizeAtGitHub(first.authorizeUrl, login);
    expect((await callback(bindings, back, first.cookie)).status).toBe(403); // the code is now used
    const second = await startSignIn(bindings);
    back.searchParams.set('state', second.authorizeUrl.searchParams.get('state') ?? '');
    const logged = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expectErrorPage(await callback(bindings, back, second.cookie), 400, 'github_bad_verification_code');
    expect(githubRefusedLines(logged)).toEqual([
      expect.objectContaining({ code: 'bad_verification_code', serverError: 'invalid_grant' }),
    ]);
  });

  it('answering 401 invalid_client with a WWW-Authenticate challenge is github_incorrect_client_credentials, and its code is logged', async () => {
    const bindings = asApp({ ...OTHER_STAND_IN_APPS.standardErrors, clientSecret: 'not-the-secret' });
    const started = await startSignIn(bindings);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('stdclient'));
    const logged = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expectErrorPage(await callback(bindings, back, started.cookie), 400, 'github_incorrect_client_credentials');
    const lines = githubRefusedLines(logged);
    expect(lines).toEqual([
      expect.objectContaining({ code: 'incorrect_client_credentials', serverError: 'invalid_client' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('not-the-secret');
  });

  it('answering 400 invalid_grant to a refresh is bad_refresh_token, logged with its code and never the token', async () => {
    const app = OTHER_STAND_IN_APPS.standardErrors;
    const bindings = asApp(app);
    const login = uniqueLogin('stdrefresh');
    await signIn(bindings, login);
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const github = {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      oauthUrl: env.GITHUB_OAUTH_URL,
      apiUrl: env.GITHUB_API_URL,
    };
    const handle = database.open();
    try {
      const [before] = await handle.db
        .update(users)
        .set({ expiresAt: new Date(Date.now() - 60_000) })
        .where(eq(users.githubLogin, login))
        .returning();
      const deps = { db: handle.db, keyring, github, log: createLogger({}) };
      expect((await freshGitHubAccessToken(deps, before?.id ?? '')).refreshed).toBe(true);
      // The old refresh token, now used, put back: the server refuses it.
      await handle.db
        .update(users)
        .set({ refreshToken: before?.refreshToken ?? null, expiresAt: new Date(Date.now() - 60_000) })
        .where(eq(users.id, before?.id ?? ''));
      const logged = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const error = await freshGitHubAccessToken(deps, before?.id ?? '').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FreshTokenError);
      expect((error as FreshTokenError).message).toContain('bad_refresh_token');
      const line = logged.mock.calls.map((call) => String(call[0])).find((text) => text.includes('refresh_refused'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ code: 'bad_refresh_token', serverError: 'invalid_grant' });
      expect(line).not.toContain('ghr_');
    } finally {
      await handle.end();
    }
  });
});

describe('the stand-in GitHub, like GitHub, checks the callback URL', () => {
  it('refuses an authorize request, and the form post of its page, whose redirect_uri is not registered (an error page, no redirect)', async () => {
    const { authorizeUrl } = await startSignIn(database.env);
    const foreign = new URL(authorizeUrl);
    foreign.searchParams.set('redirect_uri', 'https://evil.example/auth/github/callback');
    const page = await fetch(foreign, { redirect: 'manual' });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('redirect_uri is not associated with this application');
    const posted = await pickStandInUser(foreign, uniqueLogin('evil'));
    expect(posted.status).toBe(400);
    expect(posted.headers.get('location')).toBeNull();
    await posted.text();
  });

  it('answers redirect_uri_mismatch when the token request names another redirect_uri than the authorize request', async () => {
    const { authorizeUrl } = await startSignIn(database.env);
    const back = await authorizeAtGitHub(authorizeUrl, uniqueLogin('mismatch'));
    expect(`${back.origin}${back.pathname}`).toBe(TEST_CALLBACK_URL);
    const basic = btoa(`${encodeURIComponent(env.GITHUB_CLIENT_ID)}:${encodeURIComponent(env.GITHUB_CLIENT_SECRET)}`);
    const answer = await fetch(`${env.GITHUB_OAUTH_URL}/login/oauth/access_token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, Accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code') ?? '',
        redirect_uri: 'http://localhost:8787/auth/github/callback',
      }),
    });
    expect(((await answer.json()) as { error?: string }).error).toBe('redirect_uri_mismatch');
  });
});

describe('a GitHub that accepts the connection and never answers', () => {
  it(`ends the sign-in with github_unreachable (502) after ${GITHUB_TIMEOUT_MS / 1000} s instead of hanging`, async () => {
    const hanging = `http://127.0.0.1:${env.TEST_BLACKHOLE_PORT}`;
    const bindings = { ...database.env, GITHUB_OAUTH_URL: hanging, GITHUB_API_URL: hanging };
    const started = await startSignIn(bindings);
    const back = new URL('https://gateway.test/auth/github/callback');
    back.searchParams.set('code', 'a-code-github-never-answers-for');
    back.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    await expectErrorPage(await callback(bindings, back, started.cookie), 502, 'github_github_unreachable');
  }, 30_000);
});
