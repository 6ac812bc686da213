import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_SECONDS,
  createGatewayClient,
  type GatewayClient,
  JWKS_RETRY_SECONDS,
  UNKNOWN_KID_REFETCH_SECONDS,
} from '../../client/src/index.ts';
import type { Bindings } from '../../src/config.ts';
import { generateAssertionKey } from '../../src/crypto/assertion-keys.ts';
import { workerFetch } from '../support/worker/client-fetch.ts';
import { SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { authorizeAtGitHub, callbackAnswer, signIn, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * The client's offline check of the gateway's assertions (docs/api.md, "The client library":
 * verifyAssertion), against the real Worker signing with real Ed25519 keys: the client's own
 * WebCrypto code, no jose.
 */

type KeyPair = Awaited<ReturnType<typeof generateAssertionKey>>;
let database: TestDatabase;
let service: RegisteredService;
let first: KeyPair;
let second: KeyPair;

beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
  [first, second] = await Promise.all([generateAssertionKey(), generateAssertionKey()]);
});

/** The Worker's bindings signing with `signing`, with `previous` still in the JWKS. */
function withKeys(signing: KeyPair, previous: KeyPair[] = []): Bindings {
  return {
    ...database.env,
    ASSERTION_SIGNING_KEY: JSON.stringify(signing.privateJwk),
    ASSERTION_PREVIOUS_KEYS: JSON.stringify(previous.map((pair) => pair.publicJwk)),
  };
}

/** A client calling the Worker with whatever bindings `gateway.bindings` holds, counting requests by path. */
function clientOf(bindings: Bindings, options: { now?: () => number; issuer?: string } = {}) {
  const gateway = { bindings, requests: [] as string[] };
  const fetchWorker = workerFetch(() => gateway.bindings);
  const client: GatewayClient = createGatewayClient({
    gatewayUrl: 'https://gateway.test',
    serviceId: service.identifier,
    key: service.key,
    fetch: (input, init) => {
      gateway.requests.push(new URL(new Request(input, init).url).pathname);
      return fetchWorker(input, init);
    },
    ...options,
  });
  const count = (path: string) => gateway.requests.filter((requested) => requested === path).length;
  return { client, gateway, count };
}

/** A whitelisted person signs in through the service with the client: the exchange's answer. */
async function signedIn(client: GatewayClient, bindings: Bindings) {
  const login = uniqueLogin('client-assert');
  await signIn(bindings, login);
  await whitelist(database, login);
  const link = await client.signInLink({ redirectUri: SERVICE_REDIRECT });
  const started = await startSignIn(bindings, new URL(link.url).search);
  const back = await callbackAnswer(bindings, await authorizeAtGitHub(started.authorizeUrl, login), started.cookie);
  const result = await client.handleCallback(back.headers.get('location') ?? '', {
    ...link,
    redirectUri: SERVICE_REDIRECT,
  });
  if (!result.ok || result.assertion === null) throw new Error(`no assertion: ${JSON.stringify(result)}`);
  return { ...result, login, assertion: result.assertion.token };
}

/** The token with one character of its signature changed (still 64 bytes of base64url). */
function tampered(token: string, part: 'payload' | 'signature'): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  if (part === 'signature') {
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    return `${header}.${payload}.${flipped}`;
  }
  const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  const forged = btoa(JSON.stringify({ ...claims, sub: '00000000-0000-4000-8000-000000000000' }))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  return `${header}.${forged}.${signature}`;
}

describe('client.verifyAssertion against the Worker', () => {
  it("an exchange's assertion verifies offline: the person and scopes, and no request to /v1/verify", async () => {
    const bindings = withKeys(first);
    const { client, count } = clientOf(bindings);
    const { assertion, user, session } = await signedIn(client, bindings);

    const verdict = await client.verifyAssertion(assertion, { session: session.token });
    expect(verdict).toEqual({
      valid: true,
      source: 'assertion',
      code: 'ok',
      user: { id: user.id, github_id: user.github_id, login: user.login },
      scopes: ['users:verify'],
      sessionId: session.token.slice('gws_'.length, session.token.indexOf('.')),
      expiresAt: expect.any(Date),
    });
    expect(count('/v1/verify')).toBe(0);
    expect(count('/.well-known/jwks.json')).toBe(1);
  });

  it('the key set is fetched once for many verifies, concurrent ones included', async () => {
    const bindings = withKeys(first);
    const { client, count } = clientOf(bindings);
    const { assertion } = await signedIn(client, bindings);
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => client.verifyAssertion(assertion)));
    for (let i = 0; i < 5; i++) verdicts.push(await client.verifyAssertion(assertion));
    expect(verdicts.every((verdict) => verdict.valid && verdict.source === 'assertion')).toBe(true);
    expect(count('/.well-known/jwks.json')).toBe(1);
  });

  it('the key set is kept at most its max-age (300 s): fetched again after it', async () => {
    const bindings = withKeys(first);
    let offset = 0;
    const { client, count } = clientOf(bindings, { now: () => Date.now() + offset });
    const { assertion } = await signedIn(client, bindings);
    await client.verifyAssertion(assertion);
    offset = 299_000;
    await client.verifyAssertion(assertion);
    expect(count('/.well-known/jwks.json')).toBe(1);
    offset = 301_000;
    await client.verifyAssertion(assertion);
    expect(count('/.well-known/jwks.json')).toBe(2);
  });

  it('a tampered signature or payload is refused (bad_signature), never sent to the online verify', async () => {
    const bindings = withKeys(first);
    const { client, count } = clientOf(bindings);
    const { assertion, session } = await signedIn(client, bindings);
    for (const part of ['signature', 'payload'] as const) {
      expect(await client.verifyAssertion(tampered(assertion, part), { session: session.token })).toEqual({
        valid: false,
        source: 'assertion',
        code: 'bad_signature',
      });
    }
    expect(count('/v1/verify')).toBe(0);
  });

  it('another issuer or a string that is no JWT is refused: wrong_issuer, malformed_assertion', async () => {
    const bindings = withKeys(first);
    const { client } = clientOf(bindings);
    const { assertion, session } = await signedIn(client, bindings);
    const elsewhere = clientOf(bindings, { issuer: 'https://other.test' }).client;
    expect(await elsewhere.verifyAssertion(assertion, { session: session.token })).toMatchObject({
      valid: false,
      code: 'wrong_issuer',
    });
    expect(await client.verifyAssertion('not.a-jwt', { session: session.token })).toMatchObject({
      valid: false,
      source: 'assertion',
      code: 'malformed_assertion',
    });
  });

  it('an assertion of another service is refused: wrong_audience', async () => {
    const bindings = withKeys(first);
    const { client } = clientOf(bindings);
    const { assertion } = await signedIn(client, bindings);
    const other = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const theirs = createGatewayClient({
      gatewayUrl: 'https://gateway.test',
      serviceId: other.identifier,
      key: other.key,
      fetch: workerFetch(() => bindings),
    });
    expect(await theirs.verifyAssertion(assertion)).toEqual({
      valid: false,
      source: 'assertion',
      code: 'wrong_audience',
    });
  });

  it('past its exp it falls back to the online verify with the session (source online, fallback expired_assertion)', async () => {
    const bindings = withKeys(first);
    let offset = 0;
    const { client, count } = clientOf(bindings, { now: () => Date.now() + offset });
    const { assertion, session, user } = await signedIn(client, bindings);
    const offline = await client.verifyAssertion(assertion);
    if (!offline.valid || offline.source !== 'assertion') throw new Error('not verified offline');
    offset = offline.expiresAt.getTime() - Date.now() + 1000;
    expect(await client.verifyAssertion(assertion, { session: session.token })).toMatchObject({
      valid: true,
      code: 'ok',
      source: 'online',
      fallback: 'expired_assertion',
      user: { id: user.id },
    });
    expect(count('/v1/verify')).toBe(1);
    // Without a session there is nothing to ask online: the reason, not a verdict.
    expect(await client.verifyAssertion(assertion)).toEqual({
      valid: false,
      source: 'assertion',
      code: 'expired_assertion',
    });
  });

  it('one second before its exp it still verifies offline: exp has no tolerance, iat has CLOCK_SKEW_SECONDS', async () => {
    const bindings = withKeys(first);
    let offset = 0;
    const { client } = clientOf(bindings, { now: () => Date.now() + offset });
    const { assertion } = await signedIn(client, bindings);
    const verdict = await client.verifyAssertion(assertion);
    if (!verdict.valid || verdict.source !== 'assertion') throw new Error('not verified offline');
    offset = verdict.expiresAt.getTime() - Date.now() - 1000;
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: true, source: 'assertion' });
    offset = verdict.expiresAt.getTime() - Date.now();
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: false, code: 'expired_assertion' });
    // A clock behind the gateway's by less than the skew still takes a fresh assertion.
    offset = -(CLOCK_SKEW_SECONDS - 5) * 1000;
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: true, source: 'assertion' });
    offset = -(CLOCK_SKEW_SECONDS + 5) * 1000;
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: false, code: 'not_yet_valid' });
  });

  it('a key rotated out (a new ASSERTION_SIGNING_KEY, the old not in ASSERTION_PREVIOUS_KEYS) falls back online: unknown_key', async () => {
    const before = withKeys(first);
    const { client: signer } = clientOf(before);
    const { assertion, session } = await signedIn(signer, before);

    const { client, count } = clientOf(withKeys(second));
    expect(await client.verifyAssertion(assertion, { session: session.token })).toMatchObject({
      valid: true,
      code: 'ok',
      source: 'online',
      fallback: 'unknown_key',
    });
    expect(count('/v1/verify')).toBe(1);
    // Just fetched: an unknown kid does not fetch the key set again within the minute.
    await client.verifyAssertion(assertion, { session: session.token });
    expect(count('/.well-known/jwks.json')).toBe(1);
  });

  it('a key kept in ASSERTION_PREVIOUS_KEYS during a rotation still verifies offline', async () => {
    const before = withKeys(first);
    const { client: signer } = clientOf(before);
    const { assertion } = await signedIn(signer, before);
    const { client } = clientOf(withKeys(second, [first]));
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: true, source: 'assertion' });
  });

  it('a key rotated in is found by one fetch of the key set again, at most once a minute', async () => {
    let offset = 0;
    const { client, gateway, count } = clientOf(withKeys(first), { now: () => Date.now() + offset });
    const old = await signedIn(client, gateway.bindings);
    expect(await client.verifyAssertion(old.assertion)).toMatchObject({ valid: true, source: 'assertion' });

    gateway.bindings = withKeys(second, [first]);
    const { assertion } = await signedIn(client, gateway.bindings);
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: false, code: 'unknown_key' });
    expect(count('/.well-known/jwks.json')).toBe(1);
    offset = UNKNOWN_KID_REFETCH_SECONDS * 1000;
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: true, source: 'assertion' });
    expect(count('/.well-known/jwks.json')).toBe(2);
  });

  it('a key set that cannot be fetched falls back online (jwks_unavailable), and is asked again only after JWKS_RETRY_SECONDS', async () => {
    const bindings = withKeys(first);
    const { client: signer } = clientOf(bindings);
    const { assertion, session } = await signedIn(signer, bindings);
    let verifies = 0;
    let keySetFetches = 0;
    let offset = 0;
    const fetchWorker = workerFetch(() => bindings);
    const client = createGatewayClient({
      gatewayUrl: 'https://gateway.test',
      serviceId: service.identifier,
      key: service.key,
      now: () => Date.now() + offset,
      fetch: async (input, init) => {
        const path = new URL(new Request(input, init).url).pathname;
        if (path === '/.well-known/jwks.json') {
          keySetFetches++;
          if (keySetFetches === 1) throw new TypeError('fetch failed');
          if (keySetFetches === 2)
            return Response.json({ error: { code: 'internal_error', message: '' } }, { status: 500 });
        }
        if (path === '/v1/verify') verifies++;
        return fetchWorker(input, init);
      },
    });
    const online = { valid: true, source: 'online', fallback: 'jwks_unavailable' };
    expect(await client.verifyAssertion(assertion, { session: session.token })).toMatchObject(online);
    expect(await client.verifyAssertion(assertion, { session: session.token })).toMatchObject(online);
    expect({ verifies, keySetFetches }).toEqual({ verifies: 2, keySetFetches: 1 });
    offset = JWKS_RETRY_SECONDS * 1000;
    expect(await client.verifyAssertion(assertion, { session: session.token })).toMatchObject(online);
    expect(keySetFetches).toBe(2);
    offset = 2 * JWKS_RETRY_SECONDS * 1000;
    expect(await client.verifyAssertion(assertion)).toMatchObject({ valid: true, source: 'assertion' });
    expect({ verifies, keySetFetches }).toEqual({ verifies: 3, keySetFetches: 3 });
  });
});
