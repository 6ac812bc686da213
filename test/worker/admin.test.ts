import { eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry, users } from '../../drizzle/schema.ts';
import { callAdmin } from '../support/worker/call-worker.ts';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let admin: Awaited<ReturnType<typeof registerService>>;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  admin = await registerService(database, { scopes: ['admin'] });
});

const adminCall = (method: string, path: string, body?: unknown, key = admin.key) =>
  callAdmin(database.env, key, method, path, body);

const verifyStatus = async (key: string) =>
  (await callService(database, '/v1/verify', key, { user_id: crypto.randomUUID() })).status;

describe('the admin API (scope admin)', () => {
  it('a rotation with no grace, a deactivation and a deletion refuse the old key at once on the instance that made them, even with a verify cache', async () => {
    const cached = { ...database, env: { ...database.env, VERIFY_CACHE_SECONDS: '60' } };
    const call = (method: string, path: string, body?: unknown) => callAdmin(cached.env, admin.key, method, path, body);
    const statusOf = async (key: string) =>
      (await callService(cached, '/v1/verify', key, { user_id: crypto.randomUUID() })).status;
    for (const [id, change] of [
      ['cache-rotated', () => call('POST', '/v1/admin/services/cache-rotated/rotate-key', { grace_seconds: 0 })],
      ['cache-paused', () => call('PATCH', '/v1/admin/services/cache-paused', { active: false })],
      ['cache-deleted', () => call('DELETE', '/v1/admin/services/cache-deleted')],
    ] as const) {
      const created = await call('POST', '/v1/admin/services', { id, name: id, scopes: ['users:verify'] });
      const { key } = (await created.json()) as { key: string };
      // This isolate has verified the key and would trust it for 60 s.
      expect([id, await statusOf(key)]).toEqual([id, 200]);
      expect((await change()).status).toBe(200);
      expect([id, await statusOf(key)]).toEqual([id, 401]);
    }
  });

  it('registers, lists, reconfigures, rotates and deactivates a service', async () => {
    const created = await adminCall('POST', '/v1/admin/services', {
      id: 'made-by-api',
      name: 'Made by API',
      redirect_uris: [SERVICE_REDIRECT],
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    expect(await verifyStatus(key)).toBe(200);

    const listed = (await (await adminCall('GET', '/v1/admin/services')).json()) as {
      services: { id: string; redirect_uris: string[] }[];
    };
    expect(listed.services.find((service) => service.id === 'made-by-api')).toMatchObject({
      redirect_uris: [SERVICE_REDIRECT],
    });
    expect(JSON.stringify(listed)).not.toMatch(/gwk_|pbkdf2/);

    const patched = await adminCall('PATCH', '/v1/admin/services/made-by-api', {
      scopes: ['users:verify', 'github:token'],
    });
    expect(await patched.json()).toMatchObject({ scopes: ['users:verify', 'github:token'] });

    const rotated = (await (
      await adminCall('POST', '/v1/admin/services/made-by-api/rotate-key', { grace_seconds: 0 })
    ).json()) as {
      key: string;
    };
    expect(await verifyStatus(key)).toBe(401);
    expect(await verifyStatus(rotated.key)).toBe(200);

    await adminCall('PATCH', '/v1/admin/services/made-by-api', { active: false });
    expect(await verifyStatus(rotated.key)).toBe(401);
  });

  it('refuses a second rotation during the grace period with 409 rotation_in_progress, saying when it ends and how to force it', async () => {
    const service = await registerService(database, { identifier: 'rotating-twice' });
    const rotate = (body: unknown) => adminCall('POST', '/v1/admin/services/rotating-twice/rotate-key', body);
    const first = (await (await rotate({ grace_seconds: 3600 })).json()) as {
      key: string;
      previous_key_expires_at: string;
    };

    const refused = await rotate({ grace_seconds: 60 });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rotation_in_progress');
    expect(body.error.message).toContain(`its previous key works until ${first.previous_key_expires_at}`);
    expect(body.error.message).toContain('"force": true');
    expect(JSON.stringify(body)).not.toMatch(/gwk_/);
    // The first rotation's promise holds: both keys still work.
    expect(await verifyStatus(service.key)).toBe(200);
    expect(await verifyStatus(first.key)).toBe(200);

    const forced = await rotate({ grace_seconds: 60, force: true });
    expect(forced.status).toBe(200);
    const third = (await forced.json()) as { key: string };
    expect(await verifyStatus(service.key)).toBe(401);
    expect(await verifyStatus(first.key)).toBe(200);
    expect(await verifyStatus(third.key)).toBe(200);
  });

  it('rotates again without force once the grace period is over (or was 0)', async () => {
    await registerService(database, { identifier: 'rotating-later' });
    const rotate = (body: unknown) => adminCall('POST', '/v1/admin/services/rotating-later/rotate-key', body);
    expect((await rotate({ grace_seconds: 0 })).status).toBe(200);
    expect((await rotate({ grace_seconds: 3600 })).status).toBe(200);
    await database.use((db) =>
      db
        .update(serviceRegistry)
        .set({ previousKeyExpiresAt: new Date(Date.now() - 1000) })
        .where(eq(serviceRegistry.serviceIdentifier, 'rotating-later')),
    );
    expect((await rotate({ grace_seconds: 3600 })).status).toBe(200);
  });

  it('whitelists a person by login and shows the audit log', async () => {
    const login = uniqueLogin('via-api');
    await signIn(database.env, login);
    const allowed = await adminCall('POST', '/v1/admin/users/whitelist', { login, allowed: true });
    expect(await allowed.json()).toMatchObject({ login, whitelisted: true });
    const missing = await adminCall('POST', '/v1/admin/users/whitelist', { login: 'never-signed-in', allowed: true });
    expect(missing.status).toBe(404);

    const audit = (await (
      await adminCall('GET', '/v1/admin/audit?action=admin:POST%20users/whitelist&limit=10')
    ).json()) as {
      entries: { code: string; success: boolean }[];
    };
    expect(audit.entries.map((entry) => entry.code)).toEqual(['unknown_user', 'ok']);
  });

  it('whitelists by login only the person who holds it now: a rename signs the old row out of it', async () => {
    const login = uniqueLogin('renamed');
    const formerOwner = String(900_000_000 + Math.floor(Math.random() * 90_000_000));
    const handle = database.open();
    try {
      // Someone held this login before a rename and has not signed in since.
      await handle.db.insert(users).values({ githubUserId: formerOwner, githubLogin: login.toUpperCase() });
      await signIn(database.env, login);
      const holders = await handle.db.select().from(users).where(eq(users.githubLogin, login));
      expect(holders).toHaveLength(1);
      const current = holders[0]?.githubUserId;
      expect(current).not.toBe(formerOwner);
      const [stale] = await handle.db.select().from(users).where(eq(users.githubUserId, formerOwner));
      expect(stale?.githubLogin).toBeNull();

      const allowed = await adminCall('POST', '/v1/admin/users/whitelist', { login, allowed: true });
      expect(await allowed.json()).toMatchObject({ github_id: current, whitelisted: true });
      const [former] = await handle.db.select().from(users).where(eq(users.githubUserId, formerOwner));
      expect(former?.isWhitelisted).toBe(false);
    } finally {
      await handle.end();
    }
  });

  it('refuses a login that several people carry (rows from before logins were kept unique) and changes no one', async () => {
    const login = uniqueLogin('shared');
    const ids = ['910000001', '910000002'].map((id) => `${id}${Math.floor(Math.random() * 1000)}`);
    const handle = database.open();
    try {
      await handle.db.insert(users).values(ids.map((githubUserId) => ({ githubUserId, githubLogin: login })));
      const refused = await adminCall('POST', '/v1/admin/users/whitelist', { login, allowed: true });
      expect(refused.status).toBe(409);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('ambiguous_login');
      for (const id of ids) expect(body.error.message).toContain(id);
      const rows = await handle.db.select().from(users).where(inArray(users.githubUserId, ids));
      expect(rows.map((row) => row.isWhitelisted)).toEqual([false, false]);

      const byId = await adminCall('POST', '/v1/admin/users/whitelist', { github_id: ids[1], allowed: true });
      expect(await byId.json()).toMatchObject({ github_id: ids[1], whitelisted: true });
    } finally {
      await handle.end();
    }
  });

  it('refuses services without the admin scope, and bad input, with the JSON error shape', async () => {
    const plain = await registerService(database);
    const denied = await adminCall('GET', '/v1/admin/services', undefined, plain.key);
    expect(denied.status).toBe(403);
    const bad = await adminCall('POST', '/v1/admin/services', {
      id: 'x',
      name: 'X',
      redirect_uris: ['//evil.example'],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_service');
    const unknown = await adminCall('PATCH', '/v1/admin/services/nope', { active: false });
    expect(unknown.status).toBe(404);
    // A NUL in the path or a filter names nothing Postgres could store: 404 and 400, not a 500
    // (found by the hostile-input property test).
    expect((await adminCall('POST', '/v1/admin/services/%00/rotate-key', {})).status).toBe(404);
    expect((await adminCall('PATCH', '/v1/admin/services/a%00b', { active: false })).status).toBe(404);
    for (const filter of ['service', 'action', 'cursor']) {
      const nul = await adminCall('GET', `/v1/admin/audit?${filter}=x%00`);
      expect([filter, nul.status]).toEqual([filter, 400]);
    }
    const cursor = await adminCall('GET', '/v1/admin/audit?cursor=forged');
    expect(((await cursor.json()) as { error: { code: string } }).error.code).toBe('invalid_query');
  });
});
