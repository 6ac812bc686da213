import { env } from 'cloudflare:test';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { serviceAuditLogs, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import type { Bindings } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * A read replica, as Neon runs one: a copy of the primary that refuses writes and lags behind it.
 * Here it is a second real database holding a copy of the primary's rows, made read-only
 * (`default_transaction_read_only`, so any write the gateway sent it would fail), and its lag is
 * whatever changed on the primary after the copy.
 */
let primary: TestDatabase;
let replica: TestDatabase;
let service: RegisteredService;
let person: Awaited<ReturnType<typeof signedInPerson>>;
let withReplica: Bindings;

async function copyRows(): Promise<void> {
  const [services, people, sessionRows] = await primary.use((db) =>
    Promise.all([db.select().from(serviceRegistry), db.select().from(users), db.select().from(sessions)]),
  );
  await replica.use(async (db) => {
    await db.insert(serviceRegistry).values(services);
    await db.insert(users).values(people);
    await db.insert(sessions).values(sessionRows);
  });
  const admin = openDatabase({ url: env.TEST_ADMIN_DATABASE_URL, wsProxy: env.DATABASE_WS_PROXY });
  try {
    const name = new URL(replica.url).pathname.slice(1);
    await admin.db.execute(sql`ALTER DATABASE ${sql.identifier(name)} SET default_transaction_read_only = on`);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  [primary, replica] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  primary.env = { ...primary.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(primary, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
  person = await signedInPerson(primary, service);
  await copyRows();
  withReplica = { ...primary.env, DATABASE_REPLICA_URL: replica.url };
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function verify(bindings: Bindings, key: string, body: unknown) {
  const response = await callService({ ...primary, env: bindings }, '/v1/verify', key, body);
  return { status: response.status, body: (await response.json()) as { valid: boolean; code: string } };
}

describe('with DATABASE_REPLICA_URL, the verify path reads the replica', () => {
  it('answers from the replica: a change it has not received yet is not seen (the staleness accepted)', async () => {
    // Signed in after the copy: the replica has not received this person yet.
    const other = await signedInPerson(primary, service, 'lagging');
    await primary.use((db) => db.update(users).set({ isWhitelisted: false }).where(eq(users.id, person.userId)));

    // The primary alone says no; the replica, not caught up, still says yes.
    expect((await verify(primary.env, service.key, { session: person.token })).body.code).toBe('not_whitelisted');
    expect((await verify(withReplica, service.key, { session: person.token })).body).toMatchObject({
      valid: true,
      code: 'ok',
    });
    await primary.use((db) => db.update(users).set({ isWhitelisted: true }).where(eq(users.id, person.userId)));
    // A person the replica has never seen is looked up on the primary.
    expect((await verify(withReplica, service.key, { session: other.token })).body.code).toBe('ok');
  });

  it('asks the primary for what the replica does not have yet: a new service key, a new session', async () => {
    const newService = await registerService(primary, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const newPerson = await signedInPerson(primary, newService, 'fresh');
    const answer = await verify(withReplica, newService.key, { session: newPerson.token });
    expect(answer).toMatchObject({ status: 200, body: { valid: true, code: 'ok' } });
    // Truly unknown things are still unknown.
    expect((await verify(withReplica, service.key, { user_id: crypto.randomUUID() })).body.code).toBe('unknown_user');
  });

  it('never writes to the replica: audit rows and last_used_at go to the primary', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
      errors.push(args.map(String).join(' '));
    });
    const fresh = await registerService(primary, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const calls = 5;
    for (let i = 0; i < calls; i += 1) {
      expect((await verify(withReplica, fresh.key, { user_id: person.userId })).status).toBe(200);
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

  it('answers from the primary when the replica cannot be reached, and stops waiting on it for a while', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
    });
    const unreachable = new URL(replica.url);
    unreachable.port = '1';
    const broken = { ...primary.env, DATABASE_REPLICA_URL: unreachable.toString() };
    for (let i = 0; i < 3; i += 1) {
      expect((await verify(broken, service.key, { session: person.token })).body.code).toBe('ok');
    }
    const noticed = warnings.filter((line) => line.includes('database.replica_unavailable'));
    expect(noticed).toHaveLength(1);
    expect(noticed.join('\n')).not.toContain(unreachable.password || 'no-password');
  });
});
