import { beforeAll, describe, expect, it } from 'vitest';
import { callAdmin } from '../support/worker/call-worker.ts';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let admin: Awaited<ReturnType<typeof registerService>>;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  admin = await registerService(database, { scopes: ['admin'] });
});

const adminCall = (method: string, path: string, body?: unknown) =>
  callAdmin(database.env, admin.key, method, path, body);

async function create(id: string, redirectUris: string[] = [SERVICE_REDIRECT]): Promise<string> {
  const created = await adminCall('POST', '/v1/admin/services', { id, name: id, redirect_uris: redirectUris });
  expect(created.status).toBe(201);
  return ((await created.json()) as { key: string }).key;
}

const verifyStatus = async (key: string) =>
  (await callService(database, '/v1/verify', key, { user_id: crypto.randomUUID() })).status;

describe('the admin API: rename, one scope or return address at a time, delete', () => {
  it('PATCH name renames a service and keeps its id', async () => {
    await create('api-renamed');
    const patched = await adminCall('PATCH', '/v1/admin/services/api-renamed', { name: 'Renamed by API' });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: 'api-renamed', name: 'Renamed by API' });
  });

  it('PATCH add_scopes, remove_scopes, add_redirect_uris and remove_redirect_uris edit the lists in place', async () => {
    await create('api-edited', [SERVICE_REDIRECT, 'https://old.example.com/cb']);
    const patched = await adminCall('PATCH', '/v1/admin/services/api-edited', {
      add_scopes: ['github:token'],
      remove_scopes: ['users:verify'],
      add_redirect_uris: ['https://new.example.com/cb'],
      remove_redirect_uris: ['https://old.example.com/cb'],
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      scopes: ['github:token'],
      redirect_uris: [SERVICE_REDIRECT, 'https://new.example.com/cb'],
    });
  });

  it('PATCH refuses replacing and editing one list at once, and an unknown scope, with 400 invalid_service', async () => {
    await create('api-mixed');
    const mixed = await adminCall('PATCH', '/v1/admin/services/api-mixed', {
      scopes: ['admin'],
      add_scopes: ['github:token'],
    });
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as { error: { code: string } }).error.code).toBe('invalid_service');
    const unknown = await adminCall('PATCH', '/v1/admin/services/api-mixed', { add_scopes: ['root'] });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: {
        code: 'invalid_service',
        message: expect.stringContaining('scopes are users:verify, github:token, admin'),
      },
    });
  });

  it('DELETE removes the service: its key is refused, it leaves the list, and it is unknown (404) afterwards', async () => {
    const key = await create('api-deleted');
    expect(await verifyStatus(key)).toBe(200);
    const deleted = await adminCall('DELETE', '/v1/admin/services/api-deleted');
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ id: 'api-deleted', active: false, deleted_at: expect.any(String) });
    expect(await verifyStatus(key)).toBe(401);
    const listed = (await (await adminCall('GET', '/v1/admin/services')).json()) as { services: { id: string }[] };
    expect(listed.services.map((service) => service.id)).not.toContain('api-deleted');
    for (const [method, path, body] of [
      ['DELETE', '/v1/admin/services/api-deleted', undefined],
      ['PATCH', '/v1/admin/services/api-deleted', { name: 'Back' }],
      ['POST', '/v1/admin/services/api-deleted/rotate-key', {}],
    ] as const) {
      const refused = await adminCall(method, path, body);
      expect([method, path, refused.status]).toEqual([method, path, 404]);
    }
  });
});
