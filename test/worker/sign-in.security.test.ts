import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { toBase64Url } from '../../src/crypto/encoding.ts';
import { useLoginCode } from '../../src/db/login-codes.ts';
import { createSession, SessionIdTakenError } from '../../src/db/sessions.ts';
import { SIGN_IN_COOKIE } from '../../src/sign-in/attempt.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callback,
  cookiesOf,
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

async function expectSignInError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const page = await response.text();
  expect(page).toContain(`Error code: ${code}`);
  expect(response.headers.get('location')).toBeNull();
  expect(setCookieHeader(response, SESSION_COOKIE)).toBeUndefined();
}

describe('the callback refuses', () => {
  it('a missing state', async () => {
    const started = await startSignIn(database.env);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('nostate'));
    back.searchParams.delete('state');
    await expectSignInError(await callback(database.env, back, started.cookie), 400, 'state_mismatch');
  });

  it('a state that is not the one in the cookie', async () => {
    const started = await startSignIn(database.env);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('wrongstate'));
    back.searchParams.set('state', `${back.searchParams.get('state')}x`);
    await expectSignInError(await callback(database.env, back, started.cookie), 400, 'state_mismatch');
  });

  it('a missing cookie (another browser, or expired)', async () => {
    const started = await startSignIn(database.env);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('nocookie'));
    await expectSignInError(await callback(database.env, back, null), 400, 'sign_in_expired');
  });

  it('a cookie that was tampered with', async () => {
    const started = await startSignIn(database.env);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('tampered'));
    const flipped = `${started.cookie.slice(0, -2)}${started.cookie.endsWith('A') ? 'B' : 'A'}${started.cookie.slice(-1)}`;
    await expectSignInError(await callback(database.env, back, flipped), 400, 'sign_in_expired');
  });

  it('a GitHub code used a second time', async () => {
    const login = uniqueLogin('reuse');
    const first = await startSignIn(database.env);
    const back = await authorizeAtGitHub(first.authorizeUrl, login);
    expect((await callback(database.env, back, first.cookie)).status).toBe(403); // used once: pending page
    // The same code again, inside a fresh attempt whose state matches.
    const second = await startSignIn(database.env);
    back.searchParams.set('state', second.authorizeUrl.searchParams.get('state') ?? '');
    await expectSignInError(await callback(database.env, back, second.cookie), 400, 'github_bad_verification_code');
  });

  it('a code issued for another PKCE challenge (verifier mismatch)', async () => {
    const victim = await startSignIn(database.env);
    const stolen = await authorizeAtGitHub(victim.authorizeUrl, uniqueLogin('pkce'));
    // The attacker's own attempt: their state and verifier, with the victim's code.
    const attacker = await startSignIn(database.env);
    stolen.searchParams.set('state', attacker.authorizeUrl.searchParams.get('state') ?? '');
    await expectSignInError(await callback(database.env, stolen, attacker.cookie), 400, 'github_bad_verification_code');
  });

  it('GitHub refusing the client credentials (its 200-with-error answer)', async () => {
    const misconfigured = { ...database.env, GITHUB_CLIENT_SECRET: 'not-the-secret' };
    const started = await startSignIn(misconfigured);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('badsecret'));
    await expectSignInError(
      await callback(misconfigured, back, started.cookie),
      400,
      'github_incorrect_client_credentials',
    );
  });

  it('an error GitHub sends back for this attempt (the person cancelled), and the attempt ends', async () => {
    const started = await startSignIn(database.env);
    const back = new URL('https://gateway.test/auth/github/callback?error=access_denied');
    back.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
    const response = await callback(database.env, back, started.cookie);
    expect(setCookieHeader(response, SIGN_IN_COOKIE)).toMatch(/Max-Age=0/);
    await expectSignInError(response, 400, 'github_denied');
  });
});

describe('a forged callback (any page can link to it)', () => {
  it.each([
    ['no state', '?error=access_denied'],
    ['another state', '?error=access_denied&state=forged'],
    ['another state and a code', '?code=forged&state=forged'],
  ])(
    'with %s cancels nothing: the sign-in cookie stays and the genuine answer still signs in',
    async (_label, query) => {
      const login = uniqueLogin('forged');
      const started = await startSignIn(database.env);
      const forged = await callback(
        database.env,
        new URL(`https://gateway.test/auth/github/callback${query}`),
        started.cookie,
      );
      await expectSignInError(forged, 400, 'state_mismatch');
      expect(setCookieHeader(forged, SIGN_IN_COOKIE)).toBeUndefined();
      // The person goes on at GitHub, and GitHub's real answer arrives with the same cookie.
      const genuine = await callback(
        database.env,
        await authorizeAtGitHub(started.authorizeUrl, login),
        started.cookie,
      );
      expect(genuine.status).toBe(403); // signed in, not yet whitelisted: the access-pending page
      expect(await genuine.text()).toContain('Access pending');
    },
  );
});

describe('the GitHub redirect_uri', () => {
  const withoutPublicUrl = () => ({ ...database.env, PUBLIC_URL: undefined });

  it('without PUBLIC_URL, on a host that is not loopback, is a configuration error page naming PUBLIC_URL in the log', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await callWorker(withoutPublicUrl(), 'https://gateway.example.com/login', {
        redirect: 'manual',
      });
      await expectSignInError(response, 500, 'configuration_error');
      expect(setCookieHeader(response, SIGN_IN_COOKIE)).toBeUndefined();
      const line = logged.mock.calls.map((call) => String(call[0])).find((text) => text.includes('config.invalid'));
      expect(line).toContain('PUBLIC_URL is missing');
      expect(line).toContain('Set PUBLIC_URL');
    } finally {
      logged.mockRestore();
    }
  });

  it.each(['http://localhost:8787', 'http://127.0.0.1:8787'])(
    'without PUBLIC_URL, on loopback (%s), follows the request and signs in',
    async (origin) => {
      const env = withoutPublicUrl();
      const response = await callWorker(env, `${origin}/login`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      const authorizeUrl = new URL(response.headers.get('location') ?? '');
      expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${origin}/auth/github/callback`);
      const cookie = cookiesOf(response).get(SIGN_IN_COOKIE) ?? '';
      const back = await authorizeAtGitHub(authorizeUrl, uniqueLogin('loopback'));
      expect(back.origin).toBe(origin);
      const signedIn = await callWorker(env, back.toString(), {
        headers: { Cookie: `${SIGN_IN_COOKIE}=${cookie}` },
        redirect: 'manual',
      });
      expect(signedIn.status).toBe(303); // signed in: access pending
      expect(signedIn.headers.get('location')).toBe('/pending');
    },
  );

  it('in the token request is exactly the one the authorize request sent, even when the callback arrives on another origin', async () => {
    // Started on localhost, GitHub's answer opened on 127.0.0.1 (both loopback, no PUBLIC_URL).
    const env = withoutPublicUrl();
    const response = await callWorker(env, 'http://localhost:8787/login', { redirect: 'manual' });
    const cookie = cookiesOf(response).get(SIGN_IN_COOKIE) ?? '';
    const back = await authorizeAtGitHub(new URL(response.headers.get('location') ?? ''), uniqueLogin('sameuri'));
    const elsewhere = await callWorker(env, `http://127.0.0.1:8787${back.pathname}${back.search}`, {
      headers: { Cookie: `${SIGN_IN_COOKIE}=${cookie}` },
      redirect: 'manual',
    });
    // The stand-in answers redirect_uri_mismatch to any other redirect_uri.
    expect(elsewhere.status).toBe(303); // signed in: access pending
    expect(elsewhere.headers.get('location')).toBe('/pending');
  });
});

describe('/login refuses return addresses the service has not registered', () => {
  let service: Awaited<ReturnType<typeof registerService>>;
  beforeAll(async () => {
    service = await registerService(database, { redirectUris: [REDIRECT, 'http://localhost:3000/callback'] });
  });

  it.each([
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['protocol-relative', '//evil.example/auth/done'],
    ['userinfo', 'https://app.example.com@evil.example/auth/done'],
    ['another path', 'https://app.example.com/auth/done/../../admin'],
    ['a longer path', 'https://app.example.com/auth/done/extra'],
    ['another port', 'https://app.example.com:8443/auth/done'],
    ['another scheme', 'http://app.example.com/auth/done'],
    ['a query added', 'https://app.example.com/auth/done?next=https://evil.example'],
    ['a fragment added', 'https://app.example.com/auth/done#x'],
    ['case changed', 'https://APP.example.com/auth/done'],
    ['trailing slash', 'https://app.example.com/auth/done/'],
    ['localhost with another port', 'http://localhost:3001/callback'],
  ])('%s', async (_label, redirectUri) => {
    const response = await callWorker(
      database.env,
      `/login?service=${service.identifier}&redirect_uri=${encodeURIComponent(redirectUri)}`,
      { redirect: 'manual' },
    );
    await expectSignInError(response, 400, 'unregistered_redirect_uri');
    expect(setCookieHeader(response, SIGN_IN_COOKIE)).toBeUndefined();
  });

  it('an unknown or deactivated service', async () => {
    const inactive = await registerService(database, { redirectUris: [REDIRECT], active: false });
    for (const identifier of ['no-such-service', inactive.identifier]) {
      const response = await callWorker(
        database.env,
        `/login?service=${identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`,
        { redirect: 'manual' },
      );
      await expectSignInError(response, 400, 'unknown_service');
    }
  });

  it('a return address without a service', async () => {
    const response = await callWorker(database.env, `/login?redirect_uri=${encodeURIComponent(REDIRECT)}`, {
      redirect: 'manual',
    });
    await expectSignInError(response, 400, 'missing_service');
  });
});

describe('exchanging a login code', () => {
  async function codeFor(serviceKeyOwner: Awaited<ReturnType<typeof registerService>>, extraQuery = '') {
    const login = uniqueLogin('exchange');
    const query = `?service=${serviceKeyOwner.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}${extraQuery}`;
    await signIn(database.env, login, query);
    await whitelist(database, login);
    const response = await signIn(database.env, login, query);
    return new URL(response.headers.get('location') ?? '').searchParams.get('code') ?? '';
  }

  const exchange = (key: string, body: unknown) =>
    callWorker(database.env, '/v1/sessions/exchange', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      // Every exchange names the sign-in's redirect_uri (required); a test may send another.
      body: JSON.stringify({ redirect_uri: REDIRECT, ...(body as object) }),
    });

  it('by another service fails, and uses the code up', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const other = await registerService(database, { redirectUris: [REDIRECT] });
    const code = await codeFor(owner);
    const stolen = await exchange(other.key, { code });
    expect(stolen.status).toBe(400);
    expect(((await stolen.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
    expect((await exchange(owner.key, { code })).status).toBe(400);
  });

  /** A code exchanged once, and a way to ask whether the session it gave is still good. */
  async function exchangedOnce(owner: Awaited<ReturnType<typeof registerService>>) {
    const code = await codeFor(owner);
    const first = await exchange(owner.key, { code });
    expect(first.status).toBe(200);
    const { session } = (await first.json()) as { session: { token: string } };
    const verify = async () => {
      const response = await callWorker({ ...database.env, VERIFY_CACHE_SECONDS: '0' }, '/v1/verify', {
        method: 'POST',
        headers: { Authorization: `Bearer ${owner.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ session: session.token }),
      });
      return ((await response.json()) as { code: string }).code;
    };
    expect(await verify()).toBe('ok');
    return { code, verify };
  }

  it('a second time revokes the session its first use issued (someone else has the code)', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const { code, verify } = await exchangedOnce(owner);
    const replay = await exchange(owner.key, { code });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
    expect(await verify()).toBe('revoked_session');
  });

  it('a second time by another service, or after its minute, revokes nothing', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const other = await registerService(database, { redirectUris: [REDIRECT] });
    const { code, verify } = await exchangedOnce(owner);
    // Another service that got hold of the code cannot end the owner's session with it.
    expect((await exchange(other.key, { code })).status).toBe(400);
    expect(await verify()).toBe('ok');
    // The callback opened again later (history, a restored tab): the code is spent, nothing more.
    const handle = database.open();
    await handle.db.execute(
      sql`update login_codes set expires_at = now() - interval '1 second' where service_id = ${owner.id}`,
    );
    await handle.end();
    expect((await exchange(owner.key, { code })).status).toBe(400);
    expect(await verify()).toBe('ok');
  });

  it('a replay that arrives while the first exchange is still creating its session wins: that session is born revoked', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const code = await codeFor(owner);
    const handle = database.open();
    try {
      const sessionId = crypto.randomUUID();
      // The first exchange has consumed the code but not yet written the session...
      expect((await useLoginCode(handle.db, code, { sessionId, serviceId: owner.id })).kind).toBe('granted');
      // ...when the replay comes.
      expect(await useLoginCode(handle.db, code, { sessionId: crypto.randomUUID(), serviceId: owner.id })).toEqual({
        kind: 'replayed',
        revokedSession: sessionId,
      });
      const user =
        (
          await handle.db.execute<{ user_id: string }>(
            sql`select user_id from login_codes where session_id = ${sessionId}`,
          )
        ).rows[0]?.user_id ?? '';
      await expect(
        createSession(handle.db, { id: sessionId, userId: user, serviceId: owner.id, ttlSeconds: 3600 }),
      ).rejects.toBeInstanceOf(SessionIdTakenError);
    } finally {
      await handle.end();
    }
  });

  it('after its 60 seconds fails', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const code = await codeFor(owner);
    const handle = database.open();
    // As if the minute had passed: the code is otherwise fresh and unused.
    await handle.db.execute(
      sql`update login_codes set expires_at = now() - interval '1 second' where used_at is null and service_id = ${owner.id}`,
    );
    await handle.end();
    const response = await exchange(owner.key, { code });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
  });

  describe('with PKCE (the service sent a code_challenge)', () => {
    const verifier = 'pkce-verifier-of-the-service-0123456789-abcdefghijkl';
    const challengeOf = async (value: string) =>
      toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))));
    const pkceQuery = async () => `&code_challenge=${await challengeOf(verifier)}&code_challenge_method=S256`;
    const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

    it('exchanges only with the matching code_verifier', async () => {
      const owner = await registerService(database, { redirectUris: [REDIRECT] });
      const withoutVerifier = await exchange(owner.key, { code: await codeFor(owner, await pkceQuery()) });
      expect(withoutVerifier.status).toBe(400);
      expect(await errorCode(withoutVerifier)).toBe('invalid_code_verifier');

      const wrong = await exchange(owner.key, {
        code: await codeFor(owner, await pkceQuery()),
        code_verifier: `${verifier}x`,
      });
      expect(wrong.status).toBe(400);
      expect(await errorCode(wrong)).toBe('invalid_code_verifier');

      const code = await codeFor(owner, await pkceQuery());
      const right = await exchange(owner.key, { code, code_verifier: verifier });
      expect(right.status).toBe(200);
      // A failed attempt used the code up all the same: no guessing verifiers one by one.
      const codeTriedOnce = await codeFor(owner, await pkceQuery());
      expect((await exchange(owner.key, { code: codeTriedOnce, code_verifier: 'x'.repeat(43) })).status).toBe(400);
      expect((await exchange(owner.key, { code: codeTriedOnce, code_verifier: verifier })).status).toBe(400);
    });

    it('refuses a code_verifier when the sign-in sent no challenge (no downgrade)', async () => {
      const owner = await registerService(database, { redirectUris: [REDIRECT] });
      const response = await exchange(owner.key, { code: await codeFor(owner), code_verifier: verifier });
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe('invalid_code_verifier');
    });

    it('refuses a challenge without method S256 at /login', async () => {
      const owner = await registerService(database, { redirectUris: [REDIRECT] });
      const base = `/login?service=${owner.identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}`;
      const challenge = await challengeOf(verifier);
      for (const suffix of [
        `&code_challenge=${challenge}`,
        `&code_challenge=${challenge}&code_challenge_method=plain`,
        '&code_challenge_method=S256',
        // 43 characters, but not the canonical encoding of 32 bytes: could never be matched.
        `&code_challenge=${challenge.slice(0, 42)}B&code_challenge_method=S256`,
      ]) {
        const response = await callWorker(database.env, `${base}${suffix}`, { redirect: 'manual' });
        await expectSignInError(response, 400, 'invalid_request');
      }
    });
  });

  it('without a valid service key is 401', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const code = await codeFor(owner);
    const response = await exchange(`${owner.key.slice(0, -1)}x`, { code });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
    expect((await exchange(owner.key, { code })).status).toBe(200);
  });

  it('with another redirect_uri than the sign-in used is refused', async () => {
    const owner = await registerService(database, { redirectUris: [REDIRECT] });
    const code = await codeFor(owner);
    const response = await exchange(owner.key, { code, redirect_uri: 'https://app.example.com/other' });
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('redirect_uri_mismatch');
  });
});
