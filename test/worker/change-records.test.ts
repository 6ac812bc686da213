import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, serviceRegistry } from '../../drizzle/schema.ts';
import { SIGN_IN_COOKIE } from '../../src/sign-in/attempt.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { callAdmin, callWorker } from '../support/worker/call-worker.ts';
import { gatewayCookie, postSignOut, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { authorizeAtGitHub, cookiesOf, signIn, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let admin: Awaited<ReturnType<typeof registerService>>;
/** Every secret the tests see go by: none may be in any change record. */
const secrets: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  admin = await registerService(database, { scopes: ['admin'] });
  secrets.push(admin.key);
});

const FROM = { 'CF-Connecting-IP': '203.0.113.9', 'User-Agent': 'change-records-test/1.0' };

/** An admin API call from a known address and user agent. */
function adminCall(method: string, path: string, body?: unknown): Promise<Response> {
  return callWorker(database.env, path, {
    method,
    headers: {
      Authorization: `Bearer ${admin.key}`,
      ...FROM,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

type Row = typeof changeRecords.$inferSelect;

/** The change records naming this service (as subject), oldest first. */
async function recordsOfService(identifier: string): Promise<Row[]> {
  return database.use(async (db) => {
    const result = await db.execute<{ id: string }>(sql`
      select c.id from change_records c join service_registry s on s.id = c.subject_service_id
       where s.service_identifier = ${identifier} order by c.created_at, c.id`);
    const ids = result.rows.map((row) => row.id);
    if (ids.length === 0) return [];
    const rows = await db.select().from(changeRecords);
    return ids.map((id) => rows.find((row) => row.id === id) as Row);
  });
}

async function recordsOfUser(userId: string): Promise<Row[]> {
  return database.use(async (db) =>
    (await db.select().from(changeRecords))
      .filter((row) => row.subjectUserId === userId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1)),
  );
}

async function userIdOf(login: string): Promise<string> {
  const result = await database.use((db) =>
    db.execute<{ id: string }>(sql`select id from users where github_login = ${login}`),
  );
  return result.rows[0]?.id ?? '';
}

describe('the admin API records who changed what', () => {
  it('register, rename, update, deactivate, activate, rotate-key and delete each leave one record: by the calling service, from its address and user agent', async () => {
    const created = await adminCall('POST', '/v1/admin/services', {
      id: 'recorded',
      name: 'Recorded',
      scopes: ['users:verify'],
      redirect_uris: [SERVICE_REDIRECT],
    });
    expect(created.status).toBe(201);
    secrets.push(((await created.json()) as { key: string }).key);
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { name: 'Renamed' })).status).toBe(200);
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { add_scopes: ['github:token'] })).status).toBe(
      200,
    );
    // Already so: nothing changes, nothing is recorded.
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { add_scopes: ['github:token'] })).status).toBe(
      200,
    );
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { scopes: ['users:verify'] })).status).toBe(200);
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { active: false })).status).toBe(200);
    expect((await adminCall('PATCH', '/v1/admin/services/recorded', { active: true })).status).toBe(200);
    const rotated = await adminCall('POST', '/v1/admin/services/recorded/rotate-key', { grace_seconds: 60 });
    expect(rotated.status).toBe(200);
    secrets.push(((await rotated.json()) as { key: string }).key);
    // Refused (a rotation's grace period runs): no change, no record.
    expect((await adminCall('POST', '/v1/admin/services/recorded/rotate-key', {})).status).toBe(409);
    const hashes = await database.use((db) =>
      db.select({ hash: serviceRegistry.apiKeyHash, previous: serviceRegistry.previousKeyHash }).from(serviceRegistry),
    );
    for (const { hash, previous } of hashes) secrets.push(hash, ...(previous ? [previous] : []));
    expect((await adminCall('DELETE', '/v1/admin/services/recorded')).status).toBe(200);

    const records = await recordsOfService('recorded');
    expect(records.map((row) => row.action)).toEqual([
      'services:register',
      'services:rename',
      'services:update',
      'services:update',
      'services:deactivate',
      'services:activate',
      'services:rotate-key',
      'services:delete',
    ]);
    for (const row of records)
      expect(row).toMatchObject({
        kind: 'change',
        success: true,
        code: 'ok',
        actorKind: 'service',
        actorServiceId: admin.id,
        actorName: null,
        ipAddress: '203.0.113.9',
        userAgent: 'change-records-test/1.0',
        host: null,
        requestId: expect.any(String),
      });
    expect(records[0]?.details).toEqual({
      name: 'Recorded',
      scopes: ['users:verify'],
      redirect_uris: [SERVICE_REDIRECT],
    });
    expect(records[1]?.details).toEqual({ name: 'Renamed' });
    expect(records[2]?.details).toMatchObject({ add_scopes: ['github:token'] });
    expect(records[3]?.details).toEqual({ scopes: ['users:verify'] });
    expect(records[6]?.details).toMatchObject({ grace_seconds: 60, force: false });
  });

  it('whitelisting and unwhitelisting a person each leave one record naming them; a repeat that changes nothing leaves none', async () => {
    const login = uniqueLogin('listed');
    await signIn(database.env, login);
    const userId = await userIdOf(login);
    for (const allowed of [true, true, false])
      expect((await adminCall('POST', '/v1/admin/users/whitelist', { login, allowed })).status).toBe(200);
    const records = (await recordsOfUser(userId)).filter((row) => row.kind === 'change');
    expect(records.map((row) => [row.action, row.actorKind, row.actorServiceId, row.ipAddress])).toEqual([
      ['users:whitelist', 'service', admin.id, '203.0.113.9'],
      ['users:unwhitelist', 'service', admin.id, '203.0.113.9'],
    ]);
    expect(records[0]?.details).toMatchObject({ login });
  });
});

describe('sign-ins and sign-outs are recorded', () => {
  it('a sign-in not whitelisted is recorded pending (not_whitelisted), then admitted once whitelisted: by the person, from their address', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const login = uniqueLogin('arriving');
    const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
    const signInFrom = async () => {
      const started = await startSignIn(database.env, query);
      const back = await authorizeAtGitHub(started.authorizeUrl, login);
      return callWorker(database.env, `${back.pathname}${back.search}`, {
        headers: { Cookie: `${SIGN_IN_COOKIE}=${started.cookie}`, ...FROM },
        redirect: 'manual',
      });
    };
    expect((await signInFrom()).status).toBe(303); // to the pending page
    await whitelist(database, login);
    const admitted = await signInFrom();
    expect(admitted.status).toBe(302);
    secrets.push(new URL(admitted.headers.get('location') ?? '').searchParams.get('code') ?? 'no code');
    const userId = await userIdOf(login);
    const records = await recordsOfUser(userId);
    expect(records.map((row) => [row.kind, row.action, row.success, row.code, row.actorKind, row.actorUserId])).toEqual(
      [
        ['sign-in', 'sign-in:pending', false, 'not_whitelisted', 'person', userId],
        ['sign-in', 'sign-in:admitted', true, 'ok', 'person', userId],
      ],
    );
    for (const row of records)
      expect(row).toMatchObject({
        subjectServiceId: service.id,
        ipAddress: '203.0.113.9',
        userAgent: 'change-records-test/1.0',
        details: expect.objectContaining({ login }),
      });
  });

  it("GitHub's refusal of this browser's attempt is recorded refused, naming the check (github_denied)", async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const started = await startSignIn(
      database.env,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const state = started.authorizeUrl.searchParams.get('state') ?? '';
    const refused = await callWorker(database.env, `/auth/github/callback?error=access_denied&state=${state}`, {
      headers: { Cookie: `${SIGN_IN_COOKIE}=${started.cookie}`, ...FROM },
      redirect: 'manual',
    });
    expect(refused.status).toBe(302); // back to the service with error=access_denied
    const records = await database.use(async (db) =>
      (await db.select().from(changeRecords)).filter((row) => row.subjectServiceId === service.id),
    );
    expect(records.map((row) => [row.action, row.success, row.code, row.actorKind, row.actorUserId])).toEqual([
      ['sign-in:refused', false, 'github_denied', 'person', null],
    ]);
    expect(records[0]).toMatchObject({ ipAddress: '203.0.113.9', kind: 'sign-in' });
  });

  it('signing out of one service, here and everywhere each leave one record by the person', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service, 'leaving');
    secrets.push(person.token);
    const cookie = await gatewayCookie(database, person.login);
    secrets.push(cookie.slice(SESSION_COOKIE.length + 1));
    expect((await postSignOut(database, cookie, { service: service.id })).status).toBe(303);
    expect((await postSignOut(database, cookie, {})).status).toBe(303);
    const again = cookiesOf(await signIn(database.env, person.login)).get(SESSION_COOKIE) ?? '';
    expect((await postSignOut(database, `${SESSION_COOKIE}=${again}`, { everywhere: '1' })).status).toBe(303);
    const outs = (await recordsOfUser(person.userId)).filter((row) => row.action.startsWith('sign-out:'));
    expect(outs.map((row) => [row.action, row.actorKind, row.actorUserId, row.subjectServiceId])).toEqual([
      ['sign-out:service', 'person', person.userId, service.id],
      ['sign-out:here', 'person', person.userId, null],
      ['sign-out:everywhere', 'person', person.userId, null],
    ]);
    expect(outs[0]?.details).toEqual({ sessions_ended: 1 });
  });

  it('no change record holds a key, key hash, session token, cookie or login code', async () => {
    const all = await database.use((db) => db.select().from(changeRecords));
    expect(all.length).toBeGreaterThan(10);
    const text = JSON.stringify(all);
    expect(secrets.length).toBeGreaterThan(8);
    for (const secret of secrets) expect(text).not.toContain(secret);
    for (const marker of ['gwk_', 'pbkdf2-sha256$', 'ghu_', 'ghr_', 'gho_']) expect(text).not.toContain(marker);
  });
});

describe('the admin API audit route shows the change records next to the access rows', () => {
  it('kind=change, kind=sign-in and kind=access each answer only their kind; no kind answers all, newest first', async () => {
    const kinds = async (query: string) => {
      const answer = await callAdmin(database.env, admin.key, 'GET', `/v1/admin/audit?limit=500${query}`);
      expect(answer.status).toBe(200);
      return ((await answer.json()) as { entries: { kind: string; at: string }[] }).entries;
    };
    expect(new Set((await kinds('&kind=change')).map((entry) => entry.kind))).toEqual(new Set(['change']));
    expect(new Set((await kinds('&kind=sign-in')).map((entry) => entry.kind))).toEqual(new Set(['sign-in']));
    expect(new Set((await kinds('&kind=access')).map((entry) => entry.kind))).toEqual(new Set(['access']));
    const all = await kinds('');
    expect(new Set(all.map((entry) => entry.kind))).toEqual(new Set(['access', 'change', 'sign-in']));
    const times = all.map((entry) => entry.at);
    expect(times).toEqual([...times].sort().reverse());
    const bad = await callAdmin(database.env, admin.key, 'GET', '/v1/admin/audit?kind=everything');
    expect(bad.status).toBe(400);
  });

  it('a change entry names its actor, the service concerned and its details', async () => {
    const answer = await callAdmin(
      database.env,
      admin.key,
      'GET',
      '/v1/admin/audit?kind=change&action=services:register&service=recorded',
    );
    const { entries } = (await answer.json()) as { entries: Record<string, unknown>[] };
    expect(entries).toEqual([
      expect.objectContaining({
        kind: 'change',
        action: 'services:register',
        service: 'recorded',
        success: true,
        code: 'ok',
        actor: { kind: 'service', service: admin.identifier },
        ip_address: '203.0.113.9',
        user_agent: 'change-records-test/1.0',
        host: null,
        details: { name: 'Recorded', scopes: ['users:verify'], redirect_uris: [SERVICE_REDIRECT] },
      }),
    ]);
  });
});
