import { beforeAll, describe, expect, it } from 'vitest';
import { createGatewayClient, type GatewayClient, GatewayClientError } from '../../client/src/index.ts';
import { s256Challenge } from '../../client/src/pkce.ts';
import { workerFetch } from '../support/worker/client-fetch.ts';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { authorizeAtGitHub, callbackAnswer, signIn, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let service: RegisteredService;
beforeAll(async () => {
  database = await createTestDatabase();
  // The gateway answers every verify afresh: what is cached here is the client's own doing.
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, {
    redirectUris: [SERVICE_REDIRECT],
    scopes: ['users:verify', 'github:token'],
  });
});

function clientFor(options: { cacheSeconds?: number; now?: () => number } = {}): GatewayClient {
  return createGatewayClient({
    gatewayUrl: 'https://gateway.test',
    serviceId: service.identifier,
    key: service.key,
    fetch: workerFetch(() => database.env),
    ...options,
  });
}

/** A person the gateway knows and admits (signed in once on its own page, then whitelisted). */
async function admittedPerson(prefix: string): Promise<string> {
  const login = uniqueLogin(prefix);
  await signIn(database.env, login);
  await whitelist(database, login);
  return login;
}

/** The browser's side of a sign-in link: the gateway, the stand-in GitHub, back to the service's URI. */
async function followLink(url: string, login: string): Promise<URL> {
  const started = await startSignIn(database.env, new URL(url).search);
  const back = await callbackAnswer(database.env, await authorizeAtGitHub(started.authorizeUrl, login), started.cookie);
  expect(back.status).toBe(302);
  return new URL(back.headers.get('location') ?? '');
}

/** A person signed in through the client: its session and user. */
async function signedInThroughClient(client: GatewayClient, login: string) {
  const link = await client.signInLink({ redirectUri: SERVICE_REDIRECT });
  const result = await client.handleCallback(await followLink(link.url, login), {
    ...link,
    redirectUri: SERVICE_REDIRECT,
  });
  if (!result.ok) throw new Error(`the sign-in did not succeed: ${JSON.stringify(result)}`);
  return result;
}

describe('the client against the Worker: sign-in', () => {
  it('signInLink names the service, the redirect URI, a 32-byte state and the S256 challenge of its verifier', async () => {
    const link = await clientFor().signInLink({ redirectUri: SERVICE_REDIRECT });
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://gateway.test/login');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      service: service.identifier,
      redirect_uri: SERVICE_REDIRECT,
      state: link.state,
      code_challenge: await s256Challenge(link.codeVerifier),
      code_challenge_method: 'S256',
    });
    expect(link.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(link.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await clientFor().signInLink({ redirectUri: SERVICE_REDIRECT })).state).not.toBe(link.state);
  });

  it('link, stand-in GitHub, callback, exchange: handleCallback answers the session and the person', async () => {
    const login = await admittedPerson('client-in');
    const client = clientFor();
    const result = await signedInThroughClient(client, login);
    expect(result).toMatchObject({
      ok: true,
      session: { token: expect.stringMatching(/^gws_/), expires_at: expect.any(String) },
      user: { id: expect.any(String), github_id: expect.any(String), login },
    });
    expect(await client.verify({ session: result.session.token })).toMatchObject({ valid: true, code: 'ok' });
  });

  it('a callback whose state is not the one kept: state_mismatch, and the code is not spent', async () => {
    const login = await admittedPerson('client-state');
    const client = clientFor();
    const link = await client.signInLink({ redirectUri: SERVICE_REDIRECT });
    const back = await followLink(link.url, login);
    const forged = { ...link, state: `${link.state.slice(0, -1)}x`, redirectUri: SERVICE_REDIRECT };
    expect(await client.handleCallback(back, forged)).toEqual({ ok: false, reason: 'state_mismatch' });
    expect(await client.handleCallback(back, { ...link, redirectUri: SERVICE_REDIRECT })).toMatchObject({ ok: true });
  });

  it('no state kept (a browser without the sign-in cookie): state_mismatch, even for a callback without a state', async () => {
    const client = clientFor();
    const noState = new URL(SERVICE_REDIRECT);
    noState.searchParams.set('code', 'a-login-code');
    const nothingKept = { state: '', codeVerifier: '', redirectUri: SERVICE_REDIRECT };
    expect(await client.handleCallback(noState, nothingKept)).toEqual({ ok: false, reason: 'state_mismatch' });
  });

  it('a sign-in cancelled at GitHub: refused with access_denied and gateway_error github_denied', async () => {
    const client = clientFor();
    const link = await client.signInLink({ redirectUri: SERVICE_REDIRECT });
    const started = await startSignIn(database.env, new URL(link.url).search);
    const cancelled = new URL('https://gateway.test/auth/github/callback?error=access_denied');
    cancelled.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
    const back = await callbackAnswer(database.env, cancelled, started.cookie);
    const result = await client.handleCallback(back.headers.get('location') ?? '', {
      ...link,
      redirectUri: SERVICE_REDIRECT,
    });
    expect(result).toEqual({
      ok: false,
      reason: 'refused',
      error: 'access_denied',
      errorDescription: 'You cancelled the sign-in at GitHub. Start again to sign in.',
      gatewayError: 'github_denied',
    });
  });

  it('a callback handled twice: the second exchange is a GatewayClientError invalid_code, status 400', async () => {
    const login = await admittedPerson('client-twice');
    const client = clientFor();
    const link = await client.signInLink({ redirectUri: SERVICE_REDIRECT });
    const back = await followLink(link.url, login);
    const checks = { ...link, redirectUri: SERVICE_REDIRECT };
    expect(await client.handleCallback(back, checks)).toMatchObject({ ok: true });
    const again = await client.handleCallback(back, checks).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(GatewayClientError);
    expect(again).toMatchObject({ code: 'invalid_code', status: 400 });
  });
});

describe('the client against the Worker: verify, GitHub token, revoke', () => {
  it('verify by session and by user id: ok, then not_whitelisted once un-whitelisted', async () => {
    const login = await admittedPerson('client-verify');
    const client = clientFor();
    const { session, user } = await signedInThroughClient(client, login);
    expect(await client.verify({ session: session.token })).toEqual({
      valid: true,
      code: 'ok',
      user: { id: user.id, github_id: user.github_id, login, whitelisted: true },
      scopes: ['users:verify', 'github:token'],
    });
    expect(await client.verify({ userId: user.id })).toMatchObject({ valid: true, code: 'ok' });
    await whitelist(database, login, false);
    expect(await client.verify({ session: session.token })).toMatchObject({ valid: false, code: 'not_whitelisted' });
    expect(await client.verify({ userId: user.id })).toMatchObject({ valid: false, code: 'not_whitelisted' });
  });

  it('githubToken by session and by user id: the person token', async () => {
    const login = await admittedPerson('client-token');
    const client = clientFor();
    const { session, user } = await signedInThroughClient(client, login);
    expect(await client.githubToken({ session: session.token })).toMatchObject({
      access_token: expect.stringMatching(/^ghu_/),
      refreshed: false,
    });
    expect(await client.githubToken({ userId: user.id })).toMatchObject({
      access_token: expect.stringMatching(/^ghu_/),
    });
  });

  it('githubToken of a person no longer admitted: a GatewayClientError not_whitelisted, status 403', async () => {
    const login = await admittedPerson('client-token-no');
    const client = clientFor();
    const { session } = await signedInThroughClient(client, login);
    await whitelist(database, login, false);
    const error = await client.githubToken({ session: session.token }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GatewayClientError);
    expect(error).toMatchObject({ code: 'not_whitelisted', status: 403 });
  });

  it('revoke: revoked true, then verify answers revoked_session (a result, not an error), a second revoke false', async () => {
    const login = await admittedPerson('client-revoke');
    const client = clientFor({ cacheSeconds: 10 });
    const { session } = await signedInThroughClient(client, login);
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'ok' });
    expect(await client.revoke(session.token)).toEqual({ revoked: true });
    expect(await client.verify({ session: session.token })).toMatchObject({ valid: false, code: 'revoked_session' });
    expect(await client.revoke(session.token)).toEqual({ revoked: false });
  });

  it('revoke of a string that is no session: a GatewayClientError malformed_session, status 400', async () => {
    const error = await clientFor()
      .revoke('not-a-session')
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'malformed_session', status: 400, requestId: expect.any(String) });
  });

  it('a wrong key: a GatewayClientError invalid_key, status 401', async () => {
    const client = createGatewayClient({
      gatewayUrl: 'https://gateway.test',
      serviceId: service.identifier,
      key: `${service.key.slice(0, -4)}AAAA`,
      fetch: workerFetch(() => database.env),
    });
    const error = await client.verify({ session: 'gws_x' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'invalid_key', status: 401 });
  });
});

describe('the client verify cache never keeps a verdict past the gateway bound (10 s)', () => {
  it('cacheSeconds 60 keeps a verdict for 10 s, not longer: a revoke elsewhere shows from then on', async () => {
    const login = await admittedPerson('client-cache');
    let now = Date.now();
    const client = clientFor({ cacheSeconds: 60, now: () => now });
    const { session } = await signedInThroughClient(client, login);
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'ok' });
    // Revoked by another instance of the service (not through this client): this one cannot know.
    const revoked = await callService(database, '/v1/sessions/revoke', service.key, { session: session.token });
    expect(await revoked.json()).toEqual({ revoked: true });
    now += 9_999;
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'ok' });
    now += 2;
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'revoked_session' });
  });

  it('without cacheSeconds every verify asks the gateway', async () => {
    const login = await admittedPerson('client-nocache');
    const client = clientFor();
    const { session } = await signedInThroughClient(client, login);
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'ok' });
    await callService(database, '/v1/sessions/revoke', service.key, { session: session.token });
    expect(await client.verify({ session: session.token })).toMatchObject({ code: 'revoked_session' });
  });
});
