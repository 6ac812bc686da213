import { Client } from '@neondatabase/serverless';
import { eq } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { serviceRegistry, sessions } from '../../drizzle/schema.ts';
import { generateServiceKey } from '../../src/crypto/service-keys.ts';
import { loadSessionKeys } from '../../src/crypto/session-keys.ts';
import { sessionIdNamedBy, signSessionToken } from '../../src/crypto/session-tokens.ts';
import type { Database } from '../../src/db/client.ts';
import { type LookupReads, primaryReads } from '../../src/db/lookup-reads.ts';
import { findSession } from '../../src/db/sessions.ts';
import { MAX_JSON_BODY_BYTES } from '../../src/http/json-body.ts';
import { cachedSession, forgetSession } from '../../src/verify/cached-lookups.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { endlessBody } from '../support/worker/endless-body.ts';
import { insertLegacyService } from '../support/worker/legacy-service.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * The cold verify (a key this isolate has not cached: a new isolate, or the cache off) reads the
 * service's key and the session (or, by user id, the person) in one query: one round trip. What
 * is counted is every statement the real driver sends (a spy that passes each call through), read
 * from the SQL text.
 */
let database: TestDatabase;
let service: RegisteredService;
let person: Awaited<ReturnType<typeof signedInPerson>>;

beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
  person = await signedInPerson(database, service);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The statements the verify path reads with (not the audit's or last_used_at's writes). */
async function readsDuring<T>(work: () => Promise<T>): Promise<{ result: T; reads: string[] }> {
  const query = vi.spyOn(Client.prototype, 'query');
  const result = await work();
  const texts = query.mock.calls.map(([config]) =>
    typeof config === 'string' ? config : String((config as { text?: unknown }).text),
  );
  query.mockRestore();
  return { result, reads: texts.filter((text) => /^\s*select\b/i.test(text)) };
}

async function verify(key: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await callService(database, '/v1/verify', key, body, headers);
  return { status: response.status, body: (await response.json()) as { code?: string; error?: { code: string } } };
}

describe('the cold verify is one round trip', () => {
  it('reads the key and the session in one query, and answers as before', async () => {
    const { result, reads } = await readsDuring(() => verify(service.key, { session: person.token }));
    expect(result).toMatchObject({ status: 200, body: { code: 'ok' } });
    expect(reads).toHaveLength(1);
    expect(reads[0]).toContain('"service_registry"');
    expect(reads[0]).toContain('"sessions"');
  });

  it('gives every verdict the session row decides, from that one query', async () => {
    const other = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const revoked = await signedInPerson(database, service, 'revoked');
    await database.use((db) =>
      db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.userId, revoked.userId)),
    );
    const unwhitelisted = await signedInPerson(database, service, 'unlisted');
    await whitelist(database, unwhitelisted.login, false);
    // A token signed with the deployment's secret whose session row does not exist: the
    // signature checks, and the row read along says there is none.
    const keys = await loadSessionKeys(database.env.SESSION_SECRET ?? '');
    const unknownRow = await signSessionToken(
      { sessionId: crypto.randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) },
      keys.tokenSigning,
    );
    const cases: [string, string, string][] = [
      [service.key, revoked.token, 'revoked_session'],
      [service.key, unwhitelisted.token, 'not_whitelisted'],
      [other.key, person.token, 'foreign_session'],
      [service.key, unknownRow, 'invalid_session'],
    ];
    for (const [key, token, code] of cases) {
      const { result, reads } = await readsDuring(() => verify(key, { session: token }));
      expect(result, code).toMatchObject({ status: 200, body: { code } });
      expect(reads, code).toHaveLength(1);
    }
  });

  it('the previous key of a rotation, in its grace period, reads the session along too; past it, 401', async () => {
    const rotating = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const holder = await signedInPerson(database, rotating, 'rotating');
    const [stored] = await database.use((db) =>
      db
        .select({ keyId: serviceRegistry.keyId, hash: serviceRegistry.apiKeyHash })
        .from(serviceRegistry)
        .where(eq(serviceRegistry.id, rotating.id)),
    );
    // As a rotation leaves the row: a new current key, the old one kept as previous for a while.
    const next = await generateServiceKey();
    const rotate = (previousKeyExpiresAt: Date) =>
      database.use((db) =>
        db
          .update(serviceRegistry)
          .set({
            keyId: next.keyId,
            apiKeyHash: next.hash,
            previousKeyId: stored?.keyId ?? null,
            previousKeyHash: stored?.hash ?? null,
            previousKeyExpiresAt,
          })
          .where(eq(serviceRegistry.id, rotating.id)),
      );
    await rotate(new Date(Date.now() + 3_600_000));
    for (const key of [rotating.key, next.key]) {
      const { result, reads } = await readsDuring(() => verify(key, { session: holder.token }));
      expect(result).toMatchObject({ status: 200, body: { code: 'ok' } });
      expect(reads).toHaveLength(1);
    }
    await rotate(new Date(Date.now() - 1_000));
    expect(await verify(rotating.key, { session: holder.token })).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_key' } },
    });
  });

  it('a session row past its expiry is expired_session from the one query, whatever the token says', async () => {
    const expiring = await signedInPerson(database, service, 'expiring');
    await database.use((db) =>
      db
        .update(sessions)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(sessions.userId, expiring.userId)),
    );
    const { result, reads } = await readsDuring(() => verify(service.key, { session: expiring.token }));
    expect(result).toMatchObject({ status: 200, body: { code: 'expired_session' } });
    expect(reads).toHaveLength(1);
  });

  it('by user id, reads the key and the person in one query, with every verdict the row decides', async () => {
    const unlisted = await signedInPerson(database, service, 'unlisted-by-id');
    await whitelist(database, unlisted.login, false);
    const cases: [string, string][] = [
      [person.userId, 'ok'],
      [unlisted.userId, 'not_whitelisted'],
      [crypto.randomUUID(), 'unknown_user'],
    ];
    for (const [userId, code] of cases) {
      const { result, reads } = await readsDuring(() => verify(service.key, { user_id: userId }));
      expect(result, code).toMatchObject({ status: 200, body: { code } });
      expect(reads, code).toHaveLength(1);
      expect(reads[0], code).toContain('"service_registry"');
      expect(reads[0], code).toContain('"users"');
    }
  });

  it('a user id that is not one never reaches SQL: the key alone is read, then the 400', async () => {
    const { result, reads } = await readsDuring(() => verify(service.key, { user_id: "x' or 1=1 --" }));
    expect(result).toMatchObject({ status: 400, body: { error: { code: 'invalid_body' } } });
    expect(reads).toHaveLength(1);
    expect(reads[0]).not.toContain('"users"');
  });

  it('an old-system key (looked up by identifier) reads the session in a second query, as before', async () => {
    const legacyKey = 'sk_live_old_system_key_cold_verify';
    const legacy = await insertLegacyService(database, legacyKey);
    const { result, reads } = await readsDuring(() =>
      verify(legacyKey, { session: person.token }, { 'X-Gateway-Service': legacy.identifier }),
    );
    // The session is `service`'s, not this one's.
    expect(result).toMatchObject({ status: 200, body: { code: 'foreign_session' } });
    expect(reads).toHaveLength(2);
    expect(reads[0]).toContain('"service_registry"');
    expect(reads[0]).not.toContain('"sessions"');
  });

  it('a session row read along is no answer for a key that does not check: still 401', async () => {
    const wrongKey = `${service.key.slice(0, -4)}AAAA`;
    expect(await verify(wrongKey, { session: person.token })).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_key' } },
    });
    await database.use((db) =>
      db.update(serviceRegistry).set({ isActive: false }).where(eq(serviceRegistry.id, service.id)),
    );
    try {
      expect(await verify(service.key, { session: person.token })).toMatchObject({
        status: 401,
        body: { error: { code: 'inactive_service' } },
      });
    } finally {
      await database.use((db) =>
        db.update(serviceRegistry).set({ isActive: true }).where(eq(serviceRegistry.id, service.id)),
      );
    }
  });

  it('reads the body before the key check only for a gwk_ key (a missing or old-system key waits on nothing)', async () => {
    const post = (headers: Record<string, string>) => {
      const { endless, sent } = endlessBody();
      const answer = callWorker(database.env, '/v1/verify', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: endless,
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as object }));
      return answer.then((result) => ({ ...result, sent: sent() }));
    };
    const missing = await post({});
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'missing_key' } } });
    const oldSystem = await post({ Authorization: 'Bearer sk_live_old_system_key_without_its_header' });
    expect(oldSystem).toMatchObject({ status: 401, body: { error: { code: 'malformed_key' } } });
    const wrong = await post({ Authorization: `Bearer ${service.key.slice(0, -4)}AAAA` });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid_key' } } });
    // The endless body is read only for the gwk_ key, and then to just past the size limit; the
    // others are left at the one chunk a stream pulls by itself before anyone reads.
    expect(wrong.sent).toBeGreaterThan(MAX_JSON_BODY_BYTES);
    expect(wrong.sent).toBeLessThanOrEqual(MAX_JSON_BODY_BYTES + 2 * 1024);
    expect([missing.sent, oldSystem.sent]).toEqual([1024, 1024]);
  });

  it('the key is still checked before the body: a wrong key with a bad body is 401, a good key 400 or 415', async () => {
    const wrongKey = `${service.key.slice(0, -4)}AAAA`;
    const send = (key: string, body: string, type = 'application/json') =>
      callWorker(database.env, '/v1/verify', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': type },
        body,
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as object }));
    expect(await send(wrongKey, '{"session":')).toMatchObject({
      status: 401,
      body: { error: { code: 'invalid_key' } },
    });
    expect(await send(service.key, '{"session":')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    expect(await send(service.key, JSON.stringify({ session: person.token }), 'text/plain')).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type' } },
    });
    expect(await send(service.key, JSON.stringify({ session: person.token, user_id: person.userId }))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_body' } },
    });
  });

  type Person = Awaited<ReturnType<typeof signedInPerson>>;
  it.each([
    ['session', 'by-session', (holder: Person) => ({ session: holder.token })],
    ['user_id', 'by-id', (holder: Person) => ({ user_id: holder.userId })],
  ] as const)(
    'with the cache on, by %s: the key and the row once, then the row alone, then nothing',
    async (_, logins, bodyOf) => {
      const cached = { ...database, env: { ...database.env, VERIFY_CACHE_SECONDS: '10' } };
      // A key of its own: not yet verified in this isolate.
      const own = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
      const [first, second] = [
        await signedInPerson(database, own, `first-${logins}`),
        await signedInPerson(database, own, `second-${logins}`),
      ];
      const call = (holder: Person) =>
        callService(cached, '/v1/verify', own.key, bodyOf(holder)).then((response) => response.json());
      // Neither cached: one query for both.
      const both = await readsDuring(() => call(first));
      expect(both.result).toMatchObject({ code: 'ok' });
      expect(both.reads).toHaveLength(1);
      expect(both.reads[0]).toContain('"service_registry"');
      // The key cached: the row alone.
      const rowOnly = await readsDuring(() => call(second));
      expect(rowOnly.result).toMatchObject({ code: 'ok' });
      expect(rowOnly.reads).toHaveLength(1);
      expect(rowOnly.reads[0]).not.toContain('"service_registry"');
      // Both cached: nothing.
      const none = await readsDuring(() => call(first));
      expect(none.result).toMatchObject({ code: 'ok' });
      expect(none.reads).toHaveLength(0);
      // A wrong key is still refused, whatever was read along.
      expect(await verify(`${own.key.slice(0, -4)}AAAA`, bodyOf(first))).toMatchObject({
        status: 401,
        body: { error: { code: 'invalid_key' } },
      });
    },
  );
});

describe('a revocation through this isolate wins over rows read before it', () => {
  const sessionIdOf = (token: string) => sessionIdNamedBy(token) ?? '';
  const revokeHere = async (db: Database, id: string) => {
    await db.update(sessions).set({ revokedAt: new Date() }).where(eq(sessions.id, id));
    forgetSession(id);
  };

  it('a row read along before the revocation is not used', async () => {
    const raced = await signedInPerson(database, service, 'raced-along');
    const id = sessionIdOf(raced.token);
    const handle = database.open();
    try {
      const reads = primaryReads(() => handle.db);
      // What the key's query read, before another request in this isolate revoked the session.
      const readAlong = { kind: 'session' as const, reads, id, row: await findSession(handle.db, id) };
      expect(readAlong.row?.revokedAt).toBeNull();
      await revokeHere(handle.db, id);
      expect((await cachedSession(reads, id, 10, readAlong))?.revokedAt).not.toBeNull();
    } finally {
      await handle.end();
    }
  });

  it('a row loaded while the session was revoked answers its own call, and is not cached for the next', async () => {
    const raced = await signedInPerson(database, service, 'raced-load');
    const id = sessionIdOf(raced.token);
    const handle = database.open();
    try {
      let loaded: () => void = () => {};
      const queryDone = new Promise<void>((resolve) => {
        loaded = resolve;
      });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The primary's answer held back until the revocation has happened.
      const slow: LookupReads = {
        viaReplica: false,
        read: async (query) => {
          const value = await query(handle.db);
          loaded();
          await gate;
          return value;
        },
      };
      const racing = cachedSession(slow, id, 10);
      await queryDone;
      await revokeHere(handle.db, id);
      release();
      expect((await racing)?.revokedAt).toBeNull();
      expect(
        (
          await cachedSession(
            primaryReads(() => handle.db),
            id,
            10,
          )
        )?.revokedAt,
      ).not.toBeNull();
    } finally {
      await handle.end();
    }
  });
});
