import { beforeAll, describe, expect, it } from 'vitest';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

/** A whitelisted person signs in through `service`: the login code it got back. */
async function loginCode(service: RegisteredService): Promise<string> {
  const login = uniqueLogin('exchange');
  const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
  await signIn(database.env, login, query);
  await whitelist(database, login);
  const back = await signIn(database.env, login, query);
  return new URL(back.headers.get('location') ?? '').searchParams.get('code') ?? '';
}

describe('POST /v1/sessions/exchange: redirect_uri (RFC 6749 §4.1.3)', () => {
  it('without redirect_uri: 400 invalid_body naming redirect_uri, and the code is not used up', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const code = await loginCode(service);
    const missing = await callService(database, '/v1/sessions/exchange', service.key, { code });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_body');
    expect(body.error.message).toMatch(/^redirect_uri: /);
    // Refused before the code is looked at: the service can retry with the right body.
    const right = await callService(database, '/v1/sessions/exchange', service.key, {
      code,
      redirect_uri: SERVICE_REDIRECT,
    });
    expect(right.status).toBe(200);
  });

  it('with another redirect_uri than the sign-in used: 400 redirect_uri_mismatch', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const code = await loginCode(service);
    const other = await callService(database, '/v1/sessions/exchange', service.key, {
      code,
      redirect_uri: `${SERVICE_REDIRECT}/other`,
    });
    expect(other.status).toBe(400);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('redirect_uri_mismatch');
  });
});
