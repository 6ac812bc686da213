import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-event.ts';
import worker from '../../src/index.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function auditRows(serviceId: string | null) {
  const handle = database.open();
  try {
    const result = await handle.db.execute<{
      action: string;
      success: boolean;
      code: string;
      service_id: string | null;
      user_id: string | null;
      row: string;
    }>(
      sql`select action, success, metadata->>'code' as code, service_id, user_id, row_to_json(l)::text as row
            from service_audit_logs l
           where ${serviceId === null ? sql`service_id is null` : sql`service_id = ${serviceId}`}
           order by created_at`,
    );
    return result.rows;
  } finally {
    await handle.end();
  }
}

describe('the audit log', () => {
  it('has exactly one row per attempt, with its outcome code, and no key, token or session anywhere', async () => {
    const logs: string[] = [];
    for (const method of ['log', 'warn', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logs.push(args.map(String).join(' '));
      });
    }
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const person = await signedInPerson(database, service); // one audited call: the exchange
    const wrongKey = `${service.key.slice(0, -1)}${service.key.endsWith('x') ? 'y' : 'x'}`;
    const attempts: [string | null, string, unknown, string][] = [
      [service.key, '/v1/verify', { session: person.token }, 'ok'],
      [service.key, '/v1/verify', { user_id: person.userId }, 'ok'],
      [service.key, '/v1/verify', { user_id: crypto.randomUUID() }, 'unknown_user'],
      [service.key, '/v1/verify', { session: 'gws_garbage' }, 'malformed_session'],
      [service.key, '/v1/verify', { nothing: true }, 'invalid_body'],
      [service.key, '/v1/github-token', { session: person.token }, 'insufficient_scope'],
      [wrongKey, '/v1/verify', { session: person.token }, 'invalid_key'],
      [service.key, '/v1/sessions/revoke', { session: person.token }, 'ok'],
      [service.key, '/v1/verify', { session: person.token }, 'revoked_session'],
    ];
    for (const [key, path, body] of attempts)
      await callService(database, path, key, body, { 'CF-Connecting-IP': '203.0.113.7' });

    const rows = await auditRows(service.id);
    expect(rows.map((row) => [row.action, row.code])).toEqual([
      ['session_exchange', 'ok'],
      ...attempts.map(([, path, , code]) => [
        { '/v1/verify': 'verify', '/v1/github-token': 'github_token', '/v1/sessions/revoke': 'session_revoke' }[path],
        code,
      ]),
    ]);
    expect(rows.map((row) => row.success)).toEqual([true, true, true, false, false, false, false, false, true, false]);
    expect(JSON.parse(rows[1]?.row ?? '{}')).toMatchObject({ ip_address: '203.0.113.7', failure_reason: null });
    // Whose session a service got, and whose it ended, are on the rows of the exchange and the revoke.
    const byAction = (action: string) => rows.filter((row) => row.action === action).map((row) => row.user_id);
    expect(byAction('session_exchange')).toEqual([person.userId]);
    expect(byAction('session_revoke')).toEqual([person.userId]);

    const everything = [...rows.map((row) => row.row), ...logs].join('\n');
    for (const secret of [service.key, service.key.slice('gwk_'.length + 13), wrongKey, person.token]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('keeps attempts with an unknown key, with no service id', async () => {
    const unknown = `gwk_${'Z'.repeat(12)}_${'Z'.repeat(43)}`;
    const before = (await auditRows(null)).length;
    await callService(database, '/v1/verify', unknown, { user_id: crypto.randomUUID() });
    await callService(database, '/v1/verify', null, { user_id: crypto.randomUUID() });
    const after = await auditRows(null);
    expect(after.slice(before).map((row) => row.code)).toEqual(['invalid_key', 'missing_key']);
    expect(after.map((row) => row.row).join('\n')).not.toContain('Z'.repeat(43));
  });
});

/** A refused verify attempt as the audit middleware would queue it. */
const event = (code: string, requestId: string = crypto.randomUUID()): AuditEvent => ({
  id: crypto.randomUUID(),
  at: new Date().toISOString(),
  serviceId: null,
  userId: null,
  action: 'verify',
  success: false,
  code,
  requestId,
  ipAddress: null,
  userAgent: 'test',
});

describe('the audit queue consumer', () => {
  it('writes a batch in one go and acknowledges it', async () => {
    const marker = `batch-${crypto.randomUUID().slice(0, 8)}`;
    const batch = createMessageBatch<AuditEvent>('gateway-audit', [
      { id: '1', timestamp: new Date(), attempts: 1, body: event(marker) },
      { id: '2', timestamp: new Date(), attempts: 1, body: event(marker) },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, database.env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect((await auditRows(null)).filter((row) => row.code === marker)).toHaveLength(2);
  });

  it('asks for the whole batch again when the database is down, so nothing is lost', async () => {
    const marker = `blip-${crypto.randomUUID().slice(0, 8)}`;
    const messages = [1, 2, 3].map((n) => ({ id: String(n), timestamp: new Date(), attempts: 1, body: event(marker) }));
    const down = new URL(database.url);
    down.port = '1';
    const first = createMessageBatch<AuditEvent>('gateway-audit', messages);
    const ctx = createExecutionContext();
    await worker.queue(first, { ...database.env, DATABASE_URL: down.toString() }, ctx);
    const result = await getQueueResult(first, ctx);
    expect(result.ackAll).toBe(false);
    expect(result.retryBatch).toMatchObject({ retry: true });
    expect((await auditRows(null)).filter((row) => row.code === marker)).toHaveLength(0);

    // The redelivery, with the database back: every row arrives, once.
    const second = createMessageBatch<AuditEvent>(
      'gateway-audit',
      messages.map((m) => ({ ...m, attempts: 2 })),
    );
    const ctx2 = createExecutionContext();
    await worker.queue(second, database.env, ctx2);
    expect((await getQueueResult(second, ctx2)).ackAll).toBe(true);
    expect((await auditRows(null)).filter((row) => row.code === marker)).toHaveLength(3);
  });

  it('writes a batch delivered twice once (the queue delivers at least once)', async () => {
    const marker = `twice-${crypto.randomUUID().slice(0, 8)}`;
    const messages = [1, 2].map((n) => ({ id: String(n), timestamp: new Date(), attempts: 1, body: event(marker) }));
    for (const attempts of [1, 2]) {
      // The first delivery was written but its acknowledgement lost; the queue sends it again.
      const batch = createMessageBatch<AuditEvent>(
        'gateway-audit',
        messages.map((m) => ({ ...m, attempts })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, database.env, ctx);
      expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    }
    expect((await auditRows(null)).filter((row) => row.code === marker)).toHaveLength(2);
  });
});

/** Miniflare's rate-limit windows are aligned to the wall clock: start early in one. */
async function startEarlyInRateWindow(): Promise<void> {
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 100));
}

describe('the rate limit', () => {
  it(`answers 429 with Retry-After once a service passes its limit (${env.TEST_RATE_LIMIT} a minute here)`, async () => {
    const service = await registerService(database);
    const limit = Number(env.TEST_RATE_LIMIT);
    // Every call in one window: crossing into the next reset the count and failed this test.
    await startEarlyInRateWindow();
    const statuses: number[] = [];
    for (let call = 0; call < limit + 3; call += 1) {
      const response = await callService(database, '/v1/verify', service.key, { user_id: crypto.randomUUID() });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get('retry-after')).toBe('60');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
      } else {
        await response.body?.cancel();
      }
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(limit);
    expect(statuses.slice(limit)).toEqual([429, 429, 429]);
    // Another service is not affected.
    const other = await registerService(database);
    expect((await callService(database, '/v1/verify', other.key, { user_id: crypto.randomUUID() })).status).toBe(200);
  }, 40_000);

  it('stops checking keys from an address once its budget is spent (429 before any lookup or PBKDF2), and the service is unaffected', async () => {
    const service = await registerService(database);
    // The budget at a limit this test reaches (TEST_CLIENT_RATE_LIMIT a minute).
    const budgeted = { ...database, env: { ...database.env, CLIENT_RATE_LIMIT: env.LOW_CLIENT_RATE_LIMIT } };
    const limit = Number(env.TEST_CLIENT_RATE_LIMIT);
    await startEarlyInRateWindow();
    // The real key id with wrong secrets: each guess reaches the hash unless the budget stops it.
    const guess = () => `${service.key.slice(0, 17)}${crypto.randomUUID().replaceAll('-', '').padEnd(43, 'x')}`;
    const guesser = { 'CF-Connecting-IP': '192.0.2.44' };
    const codes: string[] = [];
    for (let call = 0; call < limit + 2; call += 1) {
      const response = await callService(budgeted, '/v1/verify', guess(), { user_id: crypto.randomUUID() }, guesser);
      const body = (await response.json()) as { error: { code: string } };
      codes.push(`${response.status} ${body.error.code}`);
    }
    expect(codes.slice(0, limit)).toEqual(Array(limit).fill('401 invalid_key'));
    expect(codes.slice(limit)).toEqual(['429 rate_limited', '429 rate_limited']);
    // The checked guesses are audited under the service they aimed at; the refused ones are not.
    const rows = await auditRows(service.id);
    expect(rows.map((row) => row.code)).toEqual(Array(limit).fill('invalid_key'));
    // The service itself, from its own address, is not held back by the guesser's budget.
    const own = await callService(
      budgeted,
      '/v1/verify',
      service.key,
      { user_id: crypto.randomUUID() },
      {
        'CF-Connecting-IP': '192.0.2.45',
      },
    );
    expect(own.status).toBe(200);
  }, 40_000);
});

describe('the action of a row', () => {
  it('records a call to a path no route serves as a failure with the answer’s code (not_found), not as ok', async () => {
    const address = '192.0.2.78';
    const response = await callWorker(database.env, '/v1/no-such-route', {
      method: 'POST',
      headers: { 'CF-Connecting-IP': address },
    });
    expect(response.status).toBe(404);
    await response.body?.cancel();
    const rows = await database.use((db) =>
      db.execute<{ success: boolean; code: string }>(
        sql`select success, metadata->>'code' as code from service_audit_logs where ip_address = ${address}`,
      ),
    );
    expect(rows.rows).toEqual([{ success: false, code: 'not_found' }]);
  });

  it('comes from the matched route, so a path with control characters leaves none in the audit log', async () => {
    const address = '192.0.2.77';
    const paths = [
      '/v1/%0A2026-12-01T00:00:00Z%20svc-a%20verify%20ok',
      '/v1/x%0Dsvc-a%20verify%20ok',
      '/v1/%1B]0;owned%07',
      '/v1/%07',
      '/v1/%C2%9B31m',
      '/v1/admin/%0Aforged',
    ];
    for (const path of paths) {
      const response = await callWorker(database.env, path, { headers: { 'CF-Connecting-IP': address } });
      await response.body?.cancel();
    }
    // An admin route with a control character in its id: the route pattern, not the id.
    const patched = await callWorker(database.env, '/v1/admin/services/%0Aforged%1B', {
      method: 'PATCH',
      headers: { 'CF-Connecting-IP': address, 'Content-Type': 'application/json' },
      body: '{}',
    });
    await patched.body?.cancel();
    const rows = await database.use((db) =>
      db.execute<{ action: string }>(
        sql`select action from service_audit_logs where ip_address = ${address} order by created_at`,
      ),
    );
    const actions = rows.rows.map((row) => row.action);
    expect(actions).toHaveLength(paths.length + 1);
    for (const action of actions) expect(action).not.toMatch(/\p{Cc}/u);
    expect(actions).toEqual([...paths.map(() => 'other:GET'), 'admin:PATCH services/:id']);
  });
});

describe('logs of a failed write', () => {
  it('carry the database error, not the query parameters', async () => {
    const logged: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      logged.push(String(line));
    });
    const marker = `secret-looking-${crypto.randomUUID()}`;
    const down = new URL(database.url);
    down.port = '1';
    const batch = createMessageBatch<AuditEvent>('gateway-audit', [
      {
        id: '1',
        timestamp: new Date(),
        attempts: 1,
        body: event(marker, marker),
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...database.env, DATABASE_URL: down.toString() }, ctx);
    await getQueueResult(batch, ctx);
    expect(logged.join('\n')).toContain('audit.batch_retry');
    expect(logged.join('\n')).not.toContain(marker);
  });
});
