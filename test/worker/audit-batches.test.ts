import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../src/config.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

// Audit events travel in batches per isolate (src/audit/batch.ts); these check that batching
// never loses one: N attempts at once leave N rows, when the queue refuses the batch too.

const ATTEMPTS = 30;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function verifyRows(serviceId: string): Promise<number> {
  return database.use(async (db) => {
    const result = await db.execute<{ count: number }>(
      sql`select count(*)::int as count from service_audit_logs where service_id = ${serviceId} and action = 'verify'`,
    );
    return result.rows[0]?.count ?? -1;
  });
}

/** `ATTEMPTS` verifies sent at once, each waiting for its own `waitUntil` work. */
async function concurrentVerifies(
  bindings: Bindings,
  service: RegisteredService,
  token: string,
  headers: Record<string, string> = {},
): Promise<number[]> {
  const responses = await Promise.all(
    Array.from({ length: ATTEMPTS }, () =>
      callWorker(bindings, '/v1/verify', {
        method: 'POST',
        headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ session: token }),
      }),
    ),
  );
  return Promise.all(
    responses.map(async (response) => {
      await response.arrayBuffer();
      return response.status;
    }),
  );
}

describe('audit events in batches', () => {
  it('writes one row per attempt when 30 verifies arrive at once and there is no queue', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const person = await signedInPerson(database, service);
    const statuses = await concurrentVerifies(database.env, service, person.token);
    expect(statuses).toEqual(Array(ATTEMPTS).fill(200));
    expect(await verifyRows(service.id)).toBe(ATTEMPTS);
  });

  it('writes every row directly when the queue refuses the batch twice, so 30 attempts at once leave 30 rows', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      warnings.push(String(line));
    });
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const person = await signedInPerson(database, service);
    // No request can make the real queue refuse a batch any more (an event is cut to what its row
    // keeps, far below the queue's 128 KB a message), so the queue is taken away as an outage
    // would: the real binding, its sendBatch failing.
    const unavailable: Queue = Object.assign(Object.create(env.AUDIT_QUEUE), {
      sendBatch: async () => {
        throw new Error('Queue send failed: the queue is unavailable');
      },
    });
    const bindings: Bindings = { ...database.env, AUDIT_QUEUE: unavailable };
    const statuses = await concurrentVerifies(bindings, service, person.token, { 'User-Agent': 'x'.repeat(2_000) });
    expect(statuses).toEqual(Array(ATTEMPTS).fill(200));
    expect(await verifyRows(service.id)).toBe(ATTEMPTS);
    const refused = warnings.filter((line) => line.includes('"event":"audit.batch_send_failed"'));
    expect(refused.length).toBeGreaterThanOrEqual(2);
    // The log says what failed, never the refused message itself.
    expect(refused.join('\n')).not.toContain('x'.repeat(512));
  });

  it('sends attempts with a user agent longer than the queue takes in a message, cut to what the row keeps', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      warnings.push(String(line));
    });
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const person = await signedInPerson(database, service);
    // The real queue binding refuses a message over 128 KB: uncut, every batch with one of these failed.
    const bindings: Bindings = { ...database.env, AUDIT_QUEUE: env.AUDIT_QUEUE };
    const statuses = await concurrentVerifies(bindings, service, person.token, { 'User-Agent': 'x'.repeat(130_000) });
    expect(statuses).toEqual(Array(ATTEMPTS).fill(200));
    expect(warnings.filter((line) => line.includes('"event":"audit.batch_send_failed"'))).toEqual([]);
  });
});
