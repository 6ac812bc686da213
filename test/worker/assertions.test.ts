import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../src/config.ts';
import { readConfig } from '../../src/config.ts';
import { generateAssertionKey } from '../../src/crypto/assertion-keys.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * Assertions verified offline (docs/api.md, "Assertions verified offline"): real Ed25519 keys,
 * the Worker's own JWKS, and jose as a service would use it.
 */

const ISSUER = 'https://gateway.test';

let database: TestDatabase;
let service: RegisteredService;
type KeyPair = Awaited<ReturnType<typeof generateAssertionKey>>;
let first: KeyPair;
let second: KeyPair;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
  [first, second] = await Promise.all([generateAssertionKey(), generateAssertionKey()]);
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** The Worker's bindings signing with `signing`, with `previous` still in the JWKS. */
function withKeys(signing: KeyPair | null, previous: KeyPair[] = []): Bindings {
  return {
    ...database.env,
    ...(signing ? { ASSERTION_SIGNING_KEY: JSON.stringify(signing.privateJwk) } : {}),
    ASSERTION_PREVIOUS_KEYS: JSON.stringify(previous.map((pair) => pair.publicJwk)),
  };
}

/** jose's remote JWK Set, as a service builds it, fetching /.well-known/jwks.json from the Worker. */
function remoteKeys(bindings: Bindings) {
  return createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`), {
    [customFetch]: (url: string, init: RequestInit) => callWorker(bindings, url, init),
  });
}

/** A whitelisted person signs in through the service; the exchange's whole answer. */
async function exchange(bindings: Bindings) {
  const login = uniqueLogin('assert');
  const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
  await signIn(bindings, login, query);
  await whitelist(database, login);
  const back = await signIn(bindings, login, query);
  const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
  const response = await callWorker(bindings, '/v1/sessions/exchange', {
    method: 'POST',
    headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, redirect_uri: SERVICE_REDIRECT }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as {
    session: { token: string; expires_at: string };
    user: { id: string; github_id: string; login: string };
    assertion: { token: string; expires_at: string } | null;
  };
  return { login, ...body };
}

function verifyOffline(token: string, bindings: Bindings, currentDate?: Date) {
  return jwtVerify(token, remoteKeys(bindings), {
    issuer: ISSUER,
    audience: service.identifier,
    algorithms: ['EdDSA'],
    ...(currentDate ? { currentDate } : {}),
  });
}

function refresh(bindings: Bindings, session: string, key = service.key, origin = ISSUER) {
  return callWorker(bindings, `${origin}/v1/sessions/assertion`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ session }),
  });
}

describe('the assertion of POST /v1/sessions/exchange', () => {
  it('verifies with jose against the JWKS the Worker serves, with the issuer, audience and every documented claim', async () => {
    const bindings = withKeys(first);
    const { assertion, user, session } = await exchange(bindings);
    expect(assertion).not.toBeNull();
    const token = assertion?.token ?? '';

    const { payload, protectedHeader } = await verifyOffline(token, bindings);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: first.publicJwk.kid, typ: 'JWT' });
    const claims: JWTPayload = payload;
    expect(claims).toEqual({
      iss: ISSUER,
      sub: user.id,
      aud: service.identifier,
      github_id: user.github_id,
      login: user.login,
      scope: 'users:verify',
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // The session token names its session: the assertion's sid is that one.
    expect(session.token.startsWith(`gws_${claims.sid}.`)).toBe(true);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(new Date(assertion?.expires_at ?? '').getTime()).toBe((claims.exp ?? 0) * 1000);
  });

  it('lives ASSERTION_TTL_SECONDS, and stops verifying once past its exp', async () => {
    const bindings = { ...withKeys(first), ASSERTION_TTL_SECONDS: '30' };
    const { assertion } = await exchange(bindings);
    const token = assertion?.token ?? '';
    const { payload } = await verifyOffline(token, bindings);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(30);

    const justBefore = new Date(((payload.exp ?? 0) - 1) * 1000);
    await expect(verifyOffline(token, bindings, justBefore)).resolves.toBeDefined();
    const pastExpiry = new Date((payload.exp ?? 0) * 1000 + 1000);
    await expect(verifyOffline(token, bindings, pastExpiry)).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it('from another gateway or for another service does not verify (issuer, audience)', async () => {
    const bindings = withKeys(first);
    const token = (await exchange(bindings)).assertion?.token ?? '';
    await expect(
      jwtVerify(token, remoteKeys(bindings), { issuer: 'https://other.test', audience: service.identifier }),
    ).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    await expect(
      jwtVerify(token, remoteKeys(bindings), { issuer: ISSUER, audience: 'another-service' }),
    ).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
  });
});

describe('the claims iss and exp', () => {
  it('never outlives its session: with SESSION_TTL_SECONDS 60, exp is the session expiry', async () => {
    const bindings = { ...withKeys(first), SESSION_TTL_SECONDS: '60' };
    const { assertion, session } = await exchange(bindings);
    const { payload } = await verifyOffline(assertion?.token ?? '', bindings);
    expect(payload.exp).toBe(Math.floor(Date.parse(session.expires_at) / 1000));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThanOrEqual(60);
  });

  it('iss is the origin called on localhost without PUBLIC_URL; elsewhere without it, a 500 internal_error (the log says why)', async () => {
    const { PUBLIC_URL: _unset, ...withoutUrl } = withKeys(first);
    const { session } = await exchange(withKeys(first));
    const local = await refresh(withoutUrl, session.token, service.key, 'http://127.0.0.1:8787');
    const body = (await local.json()) as { assertion: { token: string } | null };
    const { payload } = await jwtVerify(body.assertion?.token ?? '', remoteKeys(withoutUrl), {
      issuer: 'http://127.0.0.1:8787',
      audience: service.identifier,
    });
    expect(payload.iss).toBe('http://127.0.0.1:8787');

    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const remote = await refresh(withoutUrl, session.token);
    expect(remote.status).toBe(500);
    expect(((await remote.json()) as { error: { code: string } }).error.code).toBe('internal_error');
    expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toContain(
      'ASSERTION_SIGNING_KEY is set but PUBLIC_URL is not',
    );
  });
});

describe('/.well-known/jwks.json and a key rotation', () => {
  it('serves the current public key (kid, alg EdDSA, use sig) and no private part, public for 5 minutes', async () => {
    const response = await callWorker(withKeys(first), '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual({
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: first.publicJwk.x, kid: first.publicJwk.kid, alg: 'EdDSA', use: 'sig' }],
    });
  });

  it('keeps an old assertion verifying while its key is in ASSERTION_PREVIOUS_KEYS, and refuses it once the key is removed', async () => {
    const before = withKeys(first);
    const old = (await exchange(before)).assertion?.token ?? '';

    // Rotation: the new key signs, the old public key stays published.
    const during = withKeys(second, [first]);
    const jwks = (await (await callWorker(during, '/.well-known/jwks.json')).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([second.publicJwk.kid, first.publicJwk.kid]);
    await expect(verifyOffline(old, during)).resolves.toBeDefined();
    const fresh = (await exchange(during)).assertion?.token ?? '';
    expect(decodeProtectedHeader(fresh).kid).toBe(second.publicJwk.kid);
    await expect(verifyOffline(fresh, during)).resolves.toBeDefined();

    // After TTL + the JWKS cache: the old key leaves, and its assertions stop verifying.
    const after = withKeys(second);
    await expect(verifyOffline(old, after)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(verifyOffline(fresh, after)).resolves.toBeDefined();
  });

  it('lists the outgoing key once while it is both the signing key and in ASSERTION_PREVIOUS_KEYS (one secret put before the other)', async () => {
    const response = await callWorker(withKeys(first, [first]), '/.well-known/jwks.json');
    const body = (await response.json()) as { keys: { kid: string }[] };
    expect(body.keys.map((key) => key.kid)).toEqual([first.publicJwk.kid]);
  });
});

describe('POST /v1/sessions/assertion', () => {
  it('for a live session: valid, ok, and a new assertion (its own jti) that verifies offline', async () => {
    const bindings = withKeys(first);
    const { session, assertion } = await exchange(bindings);
    const response = await refresh(bindings, session.token);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { valid: boolean; code: string; assertion: { token: string } | null };
    expect(body.valid).toBe(true);
    expect(body.code).toBe('ok');
    const renewed = await verifyOffline(body.assertion?.token ?? '', bindings);
    const original = await verifyOffline(assertion?.token ?? '', bindings);
    expect(renewed.payload.sid).toBe(original.payload.sid);
    expect(renewed.payload.sub).toBe(original.payload.sub);
    expect(renewed.payload.jti).not.toBe(original.payload.jti);
  });

  it('for a revoked session: 200 with valid false, revoked_session, and no assertion; its audit row says so', async () => {
    const bindings = withKeys(first);
    const { session } = await exchange(bindings);
    await callService(database, '/v1/sessions/revoke', service.key, { session: session.token });
    const response = await refresh(bindings, session.token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ valid: false, code: 'revoked_session', assertion: null });
    const rows = await database.use((db) =>
      db.execute<{ action: string; code: string | null }>(
        sql`select action, metadata->>'code' as code from service_audit_logs
             where service_id = ${service.id} and action = 'session_assertion' order by created_at desc limit 1`,
      ),
    );
    expect(rows.rows[0]).toEqual({ action: 'session_assertion', code: 'revoked_session' });
  });

  it('for a string that is not a session token: 200 with valid false, malformed_session, as /v1/verify answers', async () => {
    const response = await refresh(withKeys(first), 'not-a-session');
    expect(await response.json()).toEqual({ valid: false, code: 'malformed_session', assertion: null });
  });

  it('refuses a service without users:verify: 403 insufficient_scope', async () => {
    const other = await registerService(database, { scopes: ['github:token'] });
    const response = await refresh(withKeys(first), 'gws_x', other.key);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');
  });
});

describe('without ASSERTION_SIGNING_KEY', () => {
  it('the exchange answers assertion null, the refresh too, and the JWKS is { keys: [] } even with ASSERTION_PREVIOUS_KEYS', async () => {
    const bindings = withKeys(null, [first]);
    const { assertion, session } = await exchange(bindings);
    expect(assertion).toBeNull();
    expect(await (await refresh(bindings, session.token)).json()).toEqual({ valid: true, code: 'ok', assertion: null });
    const jwks = await callWorker(bindings, '/.well-known/jwks.json');
    expect(await jwks.json()).toEqual({ keys: [] });
  });
});

describe('a malformed assertion setting', () => {
  const privateValue = () => JSON.stringify({ ...first.privateJwk, crv: 'X25519' });

  it('is a configuration error naming ASSERTION_SIGNING_KEY, never its value: a generic 500, the log says what to fix', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await callWorker({ ...env, ASSERTION_SIGNING_KEY: privateValue() }, '/.well-known/jwks.json');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('ASSERTION_SIGNING_KEY');
    const lines = logged.mock.calls.map((call) => String(call[0])).join('\n');
    expect(lines).toContain('ASSERTION_SIGNING_KEY must be an Ed25519 private JWK');
    expect(lines).not.toContain(first.privateJwk.d ?? 'no d');
  });

  it.each([
    ['not JSON', 'ed25519:abc'],
    ['a public key only', () => JSON.stringify(first.publicJwk)],
    ['no kid', () => JSON.stringify({ ...first.privateJwk, kid: undefined })],
  ])('refuses ASSERTION_SIGNING_KEY that is %s', (_what, value) => {
    const setting = typeof value === 'function' ? value() : value;
    const result = readConfig({ ...env, ASSERTION_SIGNING_KEY: setting });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([expect.stringMatching(/^ASSERTION_SIGNING_KEY must be an Ed25519 private JWK/)]);
    expect(problems.join('\n')).not.toContain(first.privateJwk.d ?? 'no d');
  });

  it('refuses a private key in ASSERTION_PREVIOUS_KEYS (it would be published), without quoting it', () => {
    const result = readConfig({ ...env, ASSERTION_PREVIOUS_KEYS: JSON.stringify([first.privateJwk]) });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([expect.stringMatching(/^ASSERTION_PREVIOUS_KEYS must hold public keys only/)]);
    expect(problems.join('\n')).not.toContain(first.privateJwk.d ?? 'no d');
  });

  it('refuses ASSERTION_TTL_SECONDS above 300 (the documented bound of an offline verify)', () => {
    const result = readConfig({ ...env, ASSERTION_TTL_SECONDS: '301' });
    expect(result.ok ? [] : result.problems).toEqual([expect.stringMatching(/^ASSERTION_TTL_SECONDS /)]);
  });

  it('with d and x of two different keys: the exchange fails before the login code is used up, logging the setting', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const mismatched = { ...first.privateJwk, x: second.publicJwk.x };
    const broken = { ...database.env, ASSERTION_SIGNING_KEY: JSON.stringify(mismatched) };
    const login = uniqueLogin('mismatch');
    const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
    await signIn(database.env, login, query);
    await whitelist(database, login);
    const back = await signIn(database.env, login, query);
    const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
    const body = { code, redirect_uri: SERVICE_REDIRECT };

    const refused = await callWorker(broken, '/v1/sessions/exchange', {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(refused.status).toBe(500);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('internal_error');
    const lines = logged.mock.calls.map((call) => String(call[0])).join('\n');
    expect(lines).toContain('ASSERTION_SIGNING_KEY: its d and x are not one key pair');
    expect(lines).not.toContain(first.privateJwk.d ?? 'no d');

    // Fixed, the same code still exchanges.
    const fixed = await callService(database, '/v1/sessions/exchange', service.key, body);
    expect(fixed.status).toBe(200);
  });
});
