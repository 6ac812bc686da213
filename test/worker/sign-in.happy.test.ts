import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../drizzle/schema.ts';
import { isEncryptedToken } from '../../src/crypto/token-cipher.ts';
import { PAGE_CSP } from '../../src/pages/layout.ts';
import { SIGN_IN_COOKIE } from '../../src/sign-in/attempt.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { PENDING_COOKIE } from '../../src/sign-in/pending.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { signedOutPageText } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callbackAnswer,
  cookiesOf,
  pendingPage,
  setCookieHeader,
  signIn,
  startSignIn,
  uniqueLogin,
} from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

const REDIRECT = 'https://app.example.com/auth/done';

async function userRow(login: string) {
  const handle = database.open();
  try {
    return (await handle.db.select().from(users).where(eq(users.githubLogin, login)))[0];
  } finally {
    await handle.end();
  }
}

describe('signing in through a service', () => {
  it('shows the access-pending page to a person not yet whitelisted, and keeps their encrypted tokens', async () => {
    const service = await registerService(database, { redirectUris: [REDIRECT] });
    const login = uniqueLogin('pending');
    const started = await startSignIn(
      database.env,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );
    const answer = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, login),
      started.cookie,
    );
    // The callback ends the attempt and sends the browser on to the pending page of its own.
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/pending');
    expect(cookiesOf(answer).has(SESSION_COOKIE)).toBe(false);
    expect(setCookieHeader(answer, SIGN_IN_COOKIE)).toMatch(/Max-Age=0/);
    const pendingCookie = setCookieHeader(answer, PENDING_COOKIE) ?? '';
    for (const attribute of [/HttpOnly/, /Secure/, /SameSite=Lax/, /Path=\//, /Max-Age=3600/])
      expect(pendingCookie).toMatch(attribute);
    expect(PENDING_COOKIE.startsWith('__Host-')).toBe(true);

    const response = await pendingPage(database.env, cookiesOf(answer).get(PENDING_COOKIE) ?? '');
    expect(response.status).toBe(403);
    const page = await response.text();
    expect(page).toContain('Access pending');
    expect(page).toContain(login);
    // "Try again" starts the same service's sign-in again.
    expect(page).toContain(
      `href="/login?service=${service.identifier}&amp;redirect_uri=${encodeURIComponent(REDIRECT)}"`,
    );
    expect(response.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    // No referrer to other sites; same-origin so that the page's own forms carry a real Origin.
    expect(response.headers.get('referrer-policy')).toBe('same-origin');

    const row = await userRow(login);
    expect(row).toMatchObject({ githubLogin: login, isWhitelisted: false });
    expect(isEncryptedToken(row?.accessToken ?? '')).toBe(true);
    expect(isEncryptedToken(row?.refreshToken ?? '')).toBe(true);
    expect(row?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 7 * 3600 * 1000);
  });

  it('sends a whitelisted person back with a single-use code the service exchanges for a session', async () => {
    const service = await registerService(database, { redirectUris: [REDIRECT] });
    const login = uniqueLogin('allowed');
    await signIn(database.env, login, `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    await whitelist(database, login);

    const response = await signIn(
      database.env,
      login,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=service-csrf-1`,
    );
    expect(response.status).toBe(302);
    const back = new URL(response.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('service-csrf-1');
    const code = back.searchParams.get('code') ?? '';
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const exchange = () =>
      callWorker(database.env, '/v1/sessions/exchange', {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ code, redirect_uri: REDIRECT }),
      });
    const first = await exchange();
    expect(first.status).toBe(200);
    const body = (await first.json()) as {
      session: { token: string; expires_at: string };
      user: { login: string; id: string };
    };
    expect(body.user.login).toBe(login);
    expect(body.session.token).toMatch(/^gws_/);
    expect(new Date(body.session.expires_at).getTime()).toBeGreaterThan(Date.now());

    const again = await exchange();
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
  });
});

describe("the gateway's own sign-in", () => {
  it('signs a whitelisted person in with a session cookie, and signing out revokes it', async () => {
    const login = uniqueLogin('landing');
    await signIn(database.env, login);
    await whitelist(database, login);

    const response = await signIn(database.env, login);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/');
    // __Host-: only this exact origin may set it (no Domain, Path=/, Secure), so a sibling
    // subdomain cannot plant a session cookie for the gateway.
    expect(SESSION_COOKIE.startsWith('__Host-')).toBe(true);
    const sessionCookie = setCookieHeader(response, SESSION_COOKIE) ?? '';
    expect(sessionCookie).toMatch(/Path=\//);
    expect(sessionCookie).not.toMatch(/Domain=/i);
    expect(sessionCookie).toMatch(/HttpOnly/);
    expect(sessionCookie).toMatch(/Secure/);
    expect(sessionCookie).toMatch(/SameSite=Lax/);
    const token = cookiesOf(response).get(SESSION_COOKIE) ?? '';

    const landing = await callWorker(database.env, '/', { headers: { Cookie: `${SESSION_COOKIE}=${token}` } });
    expect(await landing.text()).toContain(`You are signed in as <strong>${login}</strong>`);

    const out = await callWorker(database.env, '/logout', {
      method: 'POST',
      headers: { Cookie: `${SESSION_COOKIE}=${token}`, Origin: 'https://gateway.test' },
      redirect: 'manual',
    });
    // POST, then 303 to a page: reloading that page signs nothing out again.
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/signed-out');
    expect(await signedOutPageText(database, out)).toContain('Signed out');
    expect(setCookieHeader(out, SESSION_COOKIE)).toMatch(/Max-Age=0/);

    const after = await callWorker(database.env, '/', { headers: { Cookie: `${SESSION_COOKIE}=${token}` } });
    expect(await after.text()).toContain('Sign in with GitHub');
  });

  // The landing's list of services and signing out of them: sign-out.test.ts and standing-access.test.ts.

  it('refuses a sign-out posted from another origin, and the session stays', async () => {
    const login = uniqueLogin('crosssite');
    await signIn(database.env, login);
    await whitelist(database, login);
    const token = cookiesOf(await signIn(database.env, login)).get(SESSION_COOKIE) ?? '';
    const forged = await callWorker(database.env, '/logout', {
      method: 'POST',
      headers: { Cookie: `${SESSION_COOKIE}=${token}`, Origin: 'https://evil.example' },
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('Error code: cross_site');
    // A browser that says where the request comes from is believed over the Origin header.
    const crossSite = await callWorker(database.env, '/logout', {
      method: 'POST',
      headers: { Cookie: `${SESSION_COOKIE}=${token}`, 'Sec-Fetch-Site': 'cross-site', Origin: 'null' },
    });
    expect(crossSite.status).toBe(403);
    const landing = await callWorker(database.env, '/', { headers: { Cookie: `${SESSION_COOKIE}=${token}` } });
    expect(await landing.text()).toContain(`You are signed in as <strong>${login}</strong>`);
    // The page's own form, as a browser sends it.
    const own = await callWorker(database.env, '/logout', {
      method: 'POST',
      headers: { Cookie: `${SESSION_COOKIE}=${token}`, 'Sec-Fetch-Site': 'same-origin', Origin: 'null' },
      redirect: 'manual',
    });
    expect(own.status).toBe(303);
  });

  it('escapes what the address carries into a page', async () => {
    const login = uniqueLogin('escape');
    const hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
    const service = await registerService(database, { redirectUris: [REDIRECT] });
    const pending = await signIn(
      database.env,
      login,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=${encodeURIComponent(hostile)}`,
    );
    expect(pending.status).toBe(403);
    const page = await pending.text();
    expect(page).toContain('Try again');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('onerror=alert');
  });

  it('keeps the sign-in attempt in a sealed, HttpOnly, Lax __Host- cookie (Secure, Path=/, no Domain)', async () => {
    const { cookie, authorizeUrl } = await startSignIn(database.env);
    expect(cookie).not.toContain(authorizeUrl.searchParams.get('state') ?? 'x');
    const response = await callWorker(database.env, '/login', { redirect: 'manual' });
    // __Host-: only the gateway's exact origin may set it, so a sibling subdomain cannot plant a
    // sign-in attempt of its own (login CSRF).
    expect(SIGN_IN_COOKIE).toBe('__Host-gw_signin');
    const header = setCookieHeader(response, SIGN_IN_COOKIE) ?? '';
    expect(header).toMatch(/; Path=\/(;|$)/);
    expect(header).not.toMatch(/Domain=/i);
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/Secure/);
    expect(header).toMatch(/SameSite=Lax/);
    expect(header).toMatch(/Max-Age=600/);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('https://gateway.test/auth/github/callback');
  });
});
