import { env } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { serviceAuditLogs, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Bindings } from '../../src/config.ts';
import { localBridgeOf, openDatabase } from '../../src/db/client.ts';
import { MAX_REPLICA_LAG_SECONDS } from '../../src/db/lookup-reads.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * A read replica, as Neon runs one: a standby that refuses writes and lags behind the primary.
 * Here it is a second real database holding a copy of the primary's rows, set
 * `default_transaction_read_only` (any write the gateway sent it fails, as on a hot standby), whose
 * lag is whatever changed on the primary after the copy. It reports itself as a standby that
 * replayed the primary's last transaction `lagSeconds` ago: `pg_is_in_recovery()` and
 * `pg_last_xact_replay_timestamp()` are shadowed by functions of that database (its search_path
 * puts them before pg_catalog's).
 */
async function createReplica(lagSeconds: number): Promise<TestDatabase> {
  const replica = await createTestDatabase();
  await copyRows(replica);
  await replica.use(async (db) => {
    await db.execute(sql`create function public.pg_is_in_recovery() returns boolean language sql as 'select true'`);
    await db.execute(
      sql.raw(`create function public.pg_last_xact_replay_timestamp() returns timestamptz language sql
                 as 'select now() - interval ''${lagSeconds} seconds'''`),
    );
  });
  const admin = openDatabase({ url: env.TEST_ADMIN_DATABASE_URL, wsProxy: localBridgeOf(env) });
  try {
    const name = sql.identifier(new URL(replica.url).pathname.slice(1));
    await admin.db.execute(sql`ALTER DATABASE ${name} SET search_path = public, pg_catalog`);
    await admin.db.execute(sql`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
  } finally {
    await admin.end();
  }
  return replica;
}

/** Replication: the replica receives the primary's rows (a read-write transaction, as replay is). */
async function copyRows(replica: TestDatabase): Promise<void> {
  const [services, people, sessionRows] = await primary.use((db) =>
    Promise.all([db.select().from(serviceRegistry), db.select().from(users), db.select().from(sessions)]),
  );
  await replica.use((db) =>
    db.transaction(async (tx) => {
      await tx.execute(sql`set transaction read write`);
      await tx.delete(sessions);
      await tx.delete(users);
      await tx.delete(serviceRegistry);
      await tx.insert(serviceRegistry).values(services);
      await tx.insert(users).values(people);
      if (sessionRows.length > 0) await tx.insert(sessions).values(sessionRows);
    }),
  );
}

let primary: TestDatabase;
let replica: TestDatabase;
let service: RegisteredService;
let person: Awaited<ReturnType<typeof signedInPerson>>;
let withReplica: Bindings;

beforeAll(async () => {
  primary = await createTestDatabase();
  primary.env = { ...primary.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(primary, {
    redirectUris: [SERVICE_REDIRECT],
    scopes: ['users:verify', 'github:token'],
  });
  person = await signedInPerson(primary, service);
  replica = await createReplica(1);
  withReplica = { ...primary.env, DATABASE_REPLICA_URL: replica.url };
});
afterEach(() => {
  vi.restoreAllMocks();
});

function captureLog(method: 'warn' | 'error'): string[] {
  const lines: string[] = [];
  vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  return lines;
}

async function call(bindings: Bindings, path: string, key: string, body: unknown) {
  const response = await callService({ ...primary, env: bindings }, path, key, body);
  return { status: response.status, body: (await response.json()) as { code?: string; error?: { code: string } } };
}

describe('with DATABASE_REPLICA_URL, /v1/verify reads the replica', () => {
  it('answers from the replica: a change it has not received yet is not seen (the staleness accepted)', async () => {
    // Signed in after the copy: the replica has not received this person yet.
    const other = await signedInPerson(primary, service, 'lagging');
    await primary.use((db) => db.update(users).set({ isWhitelisted: false }).where(eq(users.id, person.userId)));
    try {
      // The primary alone says no; the replica, not caught up, still says yes.
      expect((await call(primary.env, '/v1/verify', service.key, { session: person.token })).body.code).toBe(
        'not_whitelisted',
      );
      expect((await call(withReplica, '/v1/verify', service.key, { session: person.token })).body.code).toBe('ok');
      // A person the replica has never seen is looked up on the primary, by session or by id.
      expect((await call(withReplica, '/v1/verify', service.key, { session: other.token })).body.code).toBe('ok');
      expect((await call(withReplica, '/v1/verify', service.key, { user_id: other.userId })).body.code).toBe('ok');
    } finally {
      await primary.use((db) => db.update(users).set({ isWhitelisted: true }).where(eq(users.id, person.userId)));
    }
  });

  it('asks the primary for what the replica does not have yet: a new service key, a new session', async () => {
    const newService = await registerService(primary, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const newPerson = await signedInPerson(primary, newService, 'fresh');
    const answer = await call(withReplica, '/v1/verify', newService.key, { session: newPerson.token });
    expect(answer).toMatchObject({ status: 200, body: { code: 'ok' } });
    // Truly unknown things are still unknown.
    expect((await call(withReplica, '/v1/verify', service.key, { user_id: crypto.randomUUID() })).body.code).toBe(
      'unknown_user',
    );
  });

  it('only /v1/verify trusts the replica: a key deactivated on the primary is refused by the token API though verify has the replica answer cached', async () => {
    const tokenService = await registerService(primary, {
      redirectUris: [SERVICE_REDIRECT],
      scopes: ['users:verify', 'github:token'],
    });
    const holder = await signedInPerson(primary, tokenService, 'holder');
    await copyRows(replica);
    const cached = { ...withReplica, VERIFY_CACHE_SECONDS: '10' };
    // Verified through the replica, and cached as the replica's answer. (A check the token API
    // itself cached would be trusted for up to VERIFY_CACHE_SECONDS, like any cached key: that
    // bound is cache.test.ts's, not this test's.)
    expect((await call(cached, '/v1/verify', tokenService.key, { session: holder.token })).status).toBe(200);
    await primary.use((db) =>
      db.update(serviceRegistry).set({ isActive: false }).where(eq(serviceRegistry.id, tokenService.id)),
    );
    const token = await call(cached, '/v1/github-token', tokenService.key, { session: holder.token });
    expect(token).toMatchObject({ status: 401, body: { error: { code: 'inactive_service' } } });
    // Verify itself may go on trusting the replica's answer within the documented bound.
    expect((await call(cached, '/v1/verify', tokenService.key, { session: holder.token })).status).toBe(200);
  });

  it('a session revoked through this isolate is refused at once, though the replica still shows it live', async () => {
    const revoked = await signedInPerson(primary, service, 'revoked');
    await copyRows(replica);
    const cached = { ...withReplica, VERIFY_CACHE_SECONDS: '10' };
    expect((await call(cached, '/v1/verify', service.key, { session: revoked.token })).body.code).toBe('ok');
    expect((await call(cached, '/v1/sessions/revoke', service.key, { session: revoked.token })).status).toBe(200);
    expect((await call(cached, '/v1/verify', service.key, { session: revoked.token })).body.code).toBe(
      'revoked_session',
    );
  });

  it('with the cache off too: the key and session read in one query skip a replica that shows it live', async () => {
    const revoked = await signedInPerson(primary, service, 'revoked-uncached');
    await copyRows(replica);
    expect((await call(withReplica, '/v1/verify', service.key, { session: revoked.token })).body.code).toBe('ok');
    expect((await call(withReplica, '/v1/sessions/revoke', service.key, { session: revoked.token })).status).toBe(200);
    expect((await call(withReplica, '/v1/verify', service.key, { session: revoked.token })).body.code).toBe(
      'revoked_session',
    );
  });

  it('never writes to the replica: audit rows and last_used_at go to the primary', async () => {
    const errors = captureLog('error');
    const fresh = await registerService(primary, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const calls = 5;
    for (let i = 0; i < calls; i += 1) {
      expect((await call(withReplica, '/v1/verify', fresh.key, { user_id: person.userId })).status).toBe(200);
    }
    const audited = await primary.use((db) =>
      db.select({ id: serviceAuditLogs.id }).from(serviceAuditLogs).where(eq(serviceAuditLogs.serviceId, fresh.id)),
    );
    expect(audited).toHaveLength(calls);
    const [row] = await primary.use((db) =>
      db
        .select({ lastUsedAt: serviceRegistry.lastUsedAt })
        .from(serviceRegistry)
        .where(eq(serviceRegistry.id, fresh.id)),
    );
    expect(row?.lastUsedAt).not.toBeNull();
    expect(errors.join('\n')).not.toContain('background.failed');
    // And the replica would have refused them, as a real one does.
    // (SQLSTATE 25006: cannot execute UPDATE in a read-only transaction.)
    await expect(replica.use((db) => db.update(users).set({ isWhitelisted: true }))).rejects.toMatchObject({
      cause: { code: '25006' },
    });
  });

  it(`leaves a replica more than ${MAX_REPLICA_LAG_SECONDS} s behind alone and reads the primary`, async () => {
    const warnings = captureLog('warn');
    const stalled = await createReplica(60);
    const bindings = { ...primary.env, DATABASE_REPLICA_URL: stalled.url };
    await primary.use((db) => db.update(users).set({ isWhitelisted: false }).where(eq(users.id, person.userId)));
    try {
      // The stalled replica still has the person whitelisted; the primary's answer is given.
      for (let i = 0; i < 3; i += 1) {
        expect((await call(bindings, '/v1/verify', service.key, { session: person.token })).body.code).toBe(
          'not_whitelisted',
        );
      }
    } finally {
      await primary.use((db) => db.update(users).set({ isWhitelisted: true }).where(eq(users.id, person.userId)));
    }
    const skipped = warnings.filter((line) => line.includes('database.replica_skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain('"reason":"lagging"');
  });

  it('answers from the primary when the replica cannot be reached, and stops waiting on it for a while', async () => {
    const warnings = captureLog('warn');
    const unreachable = new URL(replica.url);
    unreachable.port = '1';
    const broken = { ...primary.env, DATABASE_REPLICA_URL: unreachable.toString() };
    for (let i = 0; i < 3; i += 1) {
      expect((await call(broken, '/v1/verify', service.key, { session: person.token })).body.code).toBe('ok');
    }
    const skipped = warnings.filter((line) => line.includes('database.replica_skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain('"reason":"unavailable"');
    expect(skipped[0]).not.toContain(unreachable.toString());
    expect(skipped[0]).not.toContain(new URL(replica.url).pathname.slice(1));
  });
});
