import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry } from '../../drizzle/schema.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/** The staleness bound (VERIFY_CACHE_SECONDS) set to one second, to see both sides of it. */
const BOUND_SECONDS = 1;
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: String(BOUND_SECONDS) };
});

const pastTheBound = () => new Promise((resolve) => setTimeout(resolve, BOUND_SECONDS * 1000 + 150));

async function verify(key: string, body: unknown) {
  const response = await callService(database, '/v1/verify', key, body);
  return { status: response.status, body: (await response.json()) as { code?: string; error?: { code: string } } };
}

describe('cached answers stay within the documented bound', () => {
  it('a deactivated service is refused once the bound has passed', async () => {
    const service = await registerService(database);
    const body = { user_id: crypto.randomUUID() };
    expect((await verify(service.key, body)).status).toBe(200);
    const handle = database.open();
    await handle.db.update(serviceRegistry).set({ isActive: false }).where(eq(serviceRegistry.id, service.id));
    await handle.end();
    // Within the bound this isolate may still trust its verification of the key...
    expect((await verify(service.key, body)).status).toBe(200);
    await pastTheBound();
    // ...after it, never.
    expect(await verify(service.key, body)).toMatchObject({
      status: 401,
      body: { error: { code: 'inactive_service' } },
    });
  });

  it('an un-whitelisted person is refused once the bound has passed', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    expect((await verify(service.key, { session: person.token })).body.code).toBe('ok');
    await whitelist(database, person.login, false);
    await pastTheBound();
    expect((await verify(service.key, { session: person.token })).body.code).toBe('not_whitelisted');
  });

  it('a session revoked through this isolate is refused at once, bound or not', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    expect((await verify(service.key, { session: person.token })).body.code).toBe('ok');
    await callService(database, '/v1/sessions/revoke', service.key, { session: person.token });
    expect((await verify(service.key, { session: person.token })).body.code).toBe('revoked_session');
  });

  it('with the cache off (0), a deactivation takes effect on the next call', async () => {
    const service = await registerService(database);
    const uncached = { ...database, env: { ...database.env, VERIFY_CACHE_SECONDS: '0' } };
    const body = { user_id: crypto.randomUUID() };
    expect((await callService(uncached, '/v1/verify', service.key, body)).status).toBe(200);
    const handle = database.open();
    await handle.db.update(serviceRegistry).set({ isActive: false }).where(eq(serviceRegistry.id, service.id));
    await handle.end();
    expect((await callService(uncached, '/v1/verify', service.key, body)).status).toBe(401);
  });

  it('with the cache off (0), what an earlier call cached is not trusted either', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    // Cached under the 1 s bound...
    expect((await verify(service.key, { session: person.token })).body.code).toBe('ok');
    const setActive = async (active: boolean) => {
      const handle = database.open();
      await handle.db.update(serviceRegistry).set({ isActive: active }).where(eq(serviceRegistry.id, service.id));
      await handle.end();
    };
    await setActive(false);
    await whitelist(database, person.login, false);
    // ...and a call that says 0 reads the database again at once.
    const uncached = { ...database, env: { ...database.env, VERIFY_CACHE_SECONDS: '0' } };
    const response = await callService(uncached, '/v1/verify', service.key, { session: person.token });
    expect(response.status).toBe(401);
    await setActive(true);
    const again = await callService(uncached, '/v1/verify', service.key, { session: person.token });
    expect(((await again.json()) as { code: string }).code).toBe('not_whitelisted');
  });
});
