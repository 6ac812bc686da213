import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sessions, users } from '../../drizzle/schema.ts';
import { isEncryptedToken } from '../../src/crypto/token-cipher.ts';
import { PAGE_CSP } from '../../src/pages/layout.ts';
import { SIGN_IN_COOKIE } from '../../src/signin/attempt.ts';
import { SESSION_COOKIE } from '../../src/signin/browser-session.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { cookiesOf, setCookieHeader, signIn, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
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
    const response = await signIn(
      database.env,
      login,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
    );

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
    expect(cookiesOf(response).has(SESSION_COOKIE)).toBe(false);
    expect(setCookieHeader(response, SIGN_IN_COOKIE)).toMatch(/Max-Age=0/);

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
    });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('Signed out');
    expect(setCookieHeader(out, SESSION_COOKIE)).toMatch(/Max-Age=0/);

    const after = await callWorker(database.env, '/', { headers: { Cookie: `${SESSION_COOKIE}=${token}` } });
    expect(await after.text()).toContain('Sign in with GitHub');
  });

  it('lists the services a person is signed in to, and signs them out of one, or of everything', async () => {
    const login = uniqueLogin('many');
    const [first, second] = await Promise.all([
      registerService(database, { redirectUris: [REDIRECT] }),
      registerService(database, { redirectUris: [REDIRECT] }),
    ]);
    const serviceToken = async (service: typeof first) => {
      const back = await signIn(
        database.env,
        login,
        `?service=${service.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
      );
      const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
      const exchange = await callWorker(database.env, '/v1/sessions/exchange', {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      return ((await exchange.json()) as { session: { token: string } }).session.token;
    };
    const verifyCode = async (service: typeof first, token: string) => {
      const answer = await callWorker(database.env, '/v1/verify', {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ session: token }),
      });
      return ((await answer.json()) as { code: string }).code;
    };
    await signIn(database.env, login);
    await whitelist(database, login);
    const [firstToken, secondToken] = [await serviceToken(first), await serviceToken(second)];
    const cookie = `${SESSION_COOKIE}=${cookiesOf(await signIn(database.env, login)).get(SESSION_COOKIE) ?? ''}`;
    const personId = (await userRow(login))?.id ?? '';
    const post = (form: Record<string, string>, as = cookie) =>
      callWorker(database.env, '/logout', {
        method: 'POST',
        headers: { Cookie: as, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        redirect: 'manual',
      });

    const landing = await (await callWorker(database.env, '/', { headers: { Cookie: cookie } })).text();
    const listed = [
      ...landing.matchAll(/name="session" value="([0-9a-f-]{36})"><button type="submit">Sign out of ([^<]+)</g),
    ];
    expect(listed.map((match) => match[2]).sort()).toEqual(
      [`Test ${first.identifier}`, `Test ${second.identifier}`].sort(),
    );
    const firstSession = listed.find((match) => match[2] === `Test ${first.identifier}`)?.[1] ?? '';

    // Another person's session id, posted with this person's cookie, reaches nothing.
    const stranger = uniqueLogin('stranger');
    await signIn(database.env, stranger);
    await whitelist(database, stranger);
    const strangerCookie = `${SESSION_COOKIE}=${cookiesOf(await signIn(database.env, stranger)).get(SESSION_COOKIE) ?? ''}`;
    expect((await post({ session: firstSession }, strangerCookie)).status).toBe(303);
    expect(await verifyCode(first, firstToken)).toBe('ok');

    // One service: that session ends, the other and the gateway's own stay.
    const one = await post({ session: firstSession });
    expect(one.status).toBe(303);
    expect(one.headers.get('location')).toBe('/');
    expect(await verifyCode(first, firstToken)).toBe('revoked_session');
    expect(await verifyCode(second, secondToken)).toBe('ok');
    const after = await (await callWorker(database.env, '/', { headers: { Cookie: cookie } })).text();
    expect(after).toContain(`Sign out of Test ${second.identifier}`);
    expect(after).not.toContain(`Sign out of Test ${first.identifier}`);

    // An old, expired session at the first service: not live, so neither counted nor touched.
    const [expired] = await database.use((db) =>
      db
        .insert(sessions)
        .values({ userId: personId, serviceId: first.id, expiresAt: new Date(Date.now() - 60_000) })
        .returning({ id: sessions.id }),
    );
    // Everywhere: every service, and the gateway.
    const everywhere = await post({ everywhere: '1' });
    expect(everywhere.status).toBe(200);
    expect(await everywhere.text()).toContain('signed out of the gateway and of 1 service.');
    expect(setCookieHeader(everywhere, SESSION_COOKIE)).toMatch(/Max-Age=0/);
    expect(await verifyCode(second, secondToken)).toBe('revoked_session');
    const [untouched] = await database.use((db) =>
      db
        .select()
        .from(sessions)
        .where(eq(sessions.id, expired?.id ?? '')),
    );
    expect(untouched?.revokedAt).toBeNull();
    expect(await (await callWorker(database.env, '/', { headers: { Cookie: cookie } })).text()).toContain(
      'Sign in with GitHub',
    );
    // The stranger was never touched.
    expect(await (await callWorker(database.env, '/', { headers: { Cookie: strangerCookie } })).text()).toContain(
      `You are signed in as <strong>${stranger}</strong>`,
    );
  });

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
    });
    expect(own.status).toBe(200);
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
    expect(page).not.toContain('<script');
    expect(page).not.toContain('onerror=alert');
  });

  it('keeps the sign-in attempt in a sealed, HttpOnly, Secure, Lax cookie scoped to the callback', async () => {
    const { cookie, authorizeUrl } = await startSignIn(database.env);
    expect(cookie).not.toContain(authorizeUrl.searchParams.get('state') ?? 'x');
    const response = await callWorker(database.env, '/login', { redirect: 'manual' });
    expect(SIGN_IN_COOKIE.startsWith('__Secure-')).toBe(true);
    const header = setCookieHeader(response, SIGN_IN_COOKIE) ?? '';
    expect(header).toMatch(/Path=\/auth\/github\/callback/);
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/Secure/);
    expect(header).toMatch(/SameSite=Lax/);
    expect(header).toMatch(/Max-Age=600/);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('redirect_uri')).toBe('https://gateway.test/auth/github/callback');
  });
});
