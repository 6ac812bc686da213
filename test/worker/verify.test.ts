import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import { encryptToken, generateMasterKey, loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { signIn } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Every test here sees changes at once: the staleness bound has its own test (cache.test.ts).
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

type VerifyBody = {
  valid: boolean;
  code: string;
  user: { id: string; login: string; whitelisted: boolean } | null;
  scopes: string[];
};

async function verify(key: string, body: unknown): Promise<{ status: number; body: VerifyBody }> {
  const response = await callService(database, '/v1/verify', key, body);
  return { status: response.status, body: (await response.json()) as VerifyBody };
}

const withDb: TestDatabase['use'] = (work) => database.use(work);

describe('POST /v1/verify: every outcome and its code', () => {
  it('ok: a live session of a whitelisted person, with the service scopes', async () => {
    const service = await registerService(database, {
      redirectUris: [SERVICE_REDIRECT],
      scopes: ['users:verify', 'github:token'],
    });
    const person = await signedInPerson(database, service);
    const result = await verify(service.key, { session: person.token });
    expect(result).toEqual({
      status: 200,
      body: {
        valid: true,
        code: 'ok',
        user: { id: person.userId, github_id: expect.any(String), login: person.login, whitelisted: true },
        scopes: ['users:verify', 'github:token'],
      },
    });
  });

  it('ok and not_whitelisted by user id; unknown_user', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    expect((await verify(service.key, { user_id: person.userId })).body).toMatchObject({ valid: true, code: 'ok' });
    await whitelist(database, person.login, false);
    expect((await verify(service.key, { user_id: person.userId })).body).toMatchObject({
      valid: false,
      code: 'not_whitelisted',
      user: { login: person.login, whitelisted: false },
    });
    expect((await verify(service.key, { user_id: crypto.randomUUID() })).body).toEqual({
      valid: false,
      code: 'unknown_user',
      user: null,
      scopes: ['users:verify'],
    });
  });

  it('not_whitelisted on every call: un-whitelisting a signed-in person refuses their session', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    await whitelist(database, person.login, false);
    expect((await verify(service.key, { session: person.token })).body).toMatchObject({
      valid: false,
      code: 'not_whitelisted',
    });
  });

  it('revoked_session after the service revokes it', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    const revoke = await callService(database, '/v1/sessions/revoke', service.key, { session: person.token });
    expect(await revoke.json()).toEqual({ revoked: true });
    expect((await verify(service.key, { session: person.token })).body).toMatchObject({
      valid: false,
      code: 'revoked_session',
    });
  });

  it('expired_session once the session row has expired', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    await withDb((db) =>
      db
        .update(sessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(sessions.userId, person.userId)),
    );
    expect((await verify(service.key, { session: person.token })).body).toMatchObject({
      valid: false,
      code: 'expired_session',
    });
  });

  it('foreign_session: a session issued to another service', async () => {
    const issuer = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const other = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, issuer);
    expect((await verify(other.key, { session: person.token })).body).toEqual({
      valid: false,
      code: 'foreign_session',
      user: null,
      scopes: ['users:verify'],
    });
  });

  it('malformed_session and invalid_session', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    expect((await verify(service.key, { session: 'hello' })).body.code).toBe('malformed_session');
    const forged = `${person.token.slice(0, -3)}${person.token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect((await verify(service.key, { session: forged })).body.code).toBe('invalid_session');
  });
});

describe('POST /v1/verify: service authentication and scopes', () => {
  it('401 for a missing, malformed, unknown or inactive key; 403 without the scope', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const inactive = await registerService(database, { active: false });
    const noScope = await registerService(database, { scopes: ['github:token'] });
    const unknown = `gwk_AAAAAAAAAAAA_${'A'.repeat(43)}`;
    const cases: [string | null, number, string][] = [
      [null, 401, 'missing_key'],
      ['not-a-key', 401, 'malformed_key'],
      [unknown, 401, 'invalid_key'],
      [`${service.key.slice(0, -1)}${service.key.endsWith('x') ? 'y' : 'x'}`, 401, 'invalid_key'],
      [inactive.key, 401, 'inactive_service'],
      [noScope.key, 403, 'insufficient_scope'],
    ];
    for (const [key, status, code] of cases) {
      const response = await callService(database, '/v1/verify', key, { user_id: crypto.randomUUID() });
      expect([key, response.status]).toEqual([key, status]);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it('records when the service was last used', async () => {
    const service = await registerService(database);
    await verify(service.key, { user_id: crypto.randomUUID() });
    const [row] = await withDb((db) => db.select().from(serviceRegistry).where(eq(serviceRegistry.id, service.id)));
    expect(row?.lastUsedAt?.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('POST /v1/github-token', () => {
  it("hands a signed-in person's GitHub token to a service with the github:token scope", async () => {
    const service = await registerService(database, {
      redirectUris: [SERVICE_REDIRECT],
      scopes: ['users:verify', 'github:token'],
    });
    const person = await signedInPerson(database, service);
    const response = await callService(database, '/v1/github-token', service.key, { session: person.token });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    const body = JSON.parse(text) as { access_token: string; expires_at: string; refreshed: boolean };
    // The access token only: the refresh token never leaves the gateway.
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_at', 'refreshed']);
    expect(text).not.toContain('ghr_');
    expect(body.access_token).toMatch(/^ghu_/);
    expect(body.refreshed).toBe(false);
    // The token works at GitHub (the stand-in) as this person.
    const user = await fetch(`${env.GITHUB_API_URL}/user`, {
      headers: { Authorization: `Bearer ${body.access_token}` },
    });
    expect(((await user.json()) as { login: string }).login).toBe(person.login);
  });

  it('409 token_unreadable when no configured key opens the stored token, until the person signs in again', async () => {
    const service = await registerService(database, {
      redirectUris: [SERVICE_REDIRECT],
      scopes: ['users:verify', 'github:token'],
    });
    const person = await signedInPerson(database, service);
    // Sealed under a key the gateway was never given (a key left out of the previous keys).
    const lostKeyring = await loadTokenKeyring(generateMasterKey());
    const sealedElsewhere = await encryptToken('ghu_sealed_elsewhere', lostKeyring, {
      field: 'access_token',
      userId: person.userId,
    });
    await withDb((db) => db.update(users).set({ accessToken: sealedElsewhere }).where(eq(users.id, person.userId)));

    const refused = await callService(database, '/v1/github-token', service.key, { session: person.token });
    expect(refused.status).toBe(409);
    const text = await refused.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'token_unreadable' } });
    expect(text).not.toContain(sealedElsewhere);
    // The stored value is left for the operator, not overwritten.
    const [row] = await withDb((db) => db.select().from(users).where(eq(users.id, person.userId)));
    expect(row?.accessToken).toBe(sealedElsewhere);

    await signIn(
      database.env,
      person.login,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const healed = await callService(database, '/v1/github-token', service.key, { session: person.token });
    expect(healed.status).toBe(200);
  });

  it('by user id, only for people who signed in through the calling service and did not sign out (403 foreign_user otherwise)', async () => {
    const scopes = ['users:verify', 'github:token'];
    const own = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes });
    const other = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes });
    const person = await signedInPerson(database, own);

    const foreign = await callService(database, '/v1/github-token', other.key, { user_id: person.userId });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('foreign_user');

    const tokenCode = async (key: string, userId: string) => {
      const answer = await callService(database, '/v1/github-token', key, { user_id: userId });
      return answer.status === 200 ? 'ok' : ((await answer.json()) as { error: { code: string } }).error.code;
    };
    expect(await tokenCode(own.key, person.userId)).toBe('ok');
    // An id nobody has: the same answer, so a token service learns nothing about ids.
    expect(await tokenCode(own.key, crypto.randomUUID())).toBe('foreign_user');
    // The session expired (not revoked): still someone who came to it, for STANDING_ACCESS_SECONDS
    // (a service may keep its own sessions; standing-access.test.ts has the rest of that rule).
    await withDb((db) =>
      db
        .update(sessions)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(sessions.userId, person.userId)),
    );
    expect(await tokenCode(own.key, person.userId)).toBe('ok');
    // Signed out of it (here by the service; the person's own "Sign out of" revokes the same way):
    // no more tokens until they sign in through it again.
    await withDb((db) => db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.userId, person.userId)));
    expect(await tokenCode(own.key, person.userId)).toBe('foreign_user');
    await signIn(
      database.env,
      person.login,
      `?service=${own.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    ).then(async (back) => {
      const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
      await callService(database, '/v1/sessions/exchange', own.key, { code, redirect_uri: SERVICE_REDIRECT });
    });
    expect(await tokenCode(own.key, person.userId)).toBe('ok');
  });

  it('403 without the scope, and for a person who is not allowed in', async () => {
    const verifier = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, verifier);
    const denied = await callService(database, '/v1/github-token', verifier.key, { session: person.token });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe('insufficient_scope');

    // Someone who signed in through the token service and has since been un-whitelisted.
    const tokenService = await registerService(database, {
      redirectUris: [SERVICE_REDIRECT],
      scopes: ['users:verify', 'github:token'],
    });
    const former = await signedInPerson(database, tokenService, 'former');
    await withDb((db) => db.update(users).set({ isWhitelisted: false }).where(eq(users.id, former.userId)));
    for (const body of [{ user_id: former.userId }, { session: former.token }]) {
      const refused = await callService(database, '/v1/github-token', tokenService.key, body);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('not_whitelisted');
    }
  });
});

describe('bad bodies get 4xx JSON, never 500', () => {
  it.each([
    ['invalid JSON', '{"session":', 'application/json', 400, 'invalid_json'],
    ['wrong type', JSON.stringify({ session: 42 }), 'application/json', 400, 'invalid_body'],
    [
      'both ids',
      JSON.stringify({ session: 'gws_x', user_id: crypto.randomUUID() }),
      'application/json',
      400,
      'invalid_body',
    ],
    ['not a uuid', JSON.stringify({ user_id: 'robert; drop table users' }), 'application/json', 400, 'invalid_body'],
    ['huge string', JSON.stringify({ session: 'x'.repeat(20_000) }), 'application/json', 413, 'payload_too_large'],
    ['wrong content type', 'session=x', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
  ])('%s', async (_label, body, type, status, code) => {
    const service = await registerService(database);
    const response = await callWorker(database.env, '/v1/verify', {
      method: 'POST',
      headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': type },
      body,
    });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
  });
});
