import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Bindings } from '../../src/config.ts';
import { clientBucket, WORKERS_EGRESS_ADDRESS } from '../../src/http/client-budget.ts';
import { rotateServiceKey } from '../../src/services/admin.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { insertLegacyService } from '../support/worker/legacy-service.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

// The key-check budget is per client address (CF-Connecting-IP), drawn before any database work
// by every /v1 request the isolate's verified-key cache does not answer. Each test sends from
// addresses of its own, so tests never share a bucket.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // The budget at a limit these tests reach in a few seconds (TEST_CLIENT_RATE_LIMIT a minute).
  database.env = { ...database.env, CLIENT_RATE_LIMIT: env.LOW_CLIENT_RATE_LIMIT };
});
afterEach(() => {
  vi.restoreAllMocks();
});

const LIMIT = Number(env.TEST_CLIENT_RATE_LIMIT);

/** A documentation address (RFC 5737) of this test's own. */
function freshAddress(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

/** Miniflare's rate-limit windows are aligned to the wall clock: start early in one. */
async function startEarlyInRateWindow(): Promise<void> {
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 30_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 100));
}

/** One verify call from `address`: its status, error code (or "ok") and message. */
async function verifyFrom(
  bindings: Bindings,
  address: string,
  key: string,
  serviceHeader: string | null = null,
): Promise<string> {
  const response = await callWorker(bindings, '/v1/verify', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      'Content-Type': 'application/json',
      'CF-Connecting-IP': address,
      ...(serviceHeader === null ? {} : { 'X-Gateway-Service': serviceHeader }),
    },
    body: JSON.stringify({ user_id: crypto.randomUUID() }),
  });
  const body = (await response.json()) as { error?: { code: string; message: string } };
  if (response.status === 429) expect(response.headers.get('retry-after')).toBe('60');
  return body.error ? `${response.status} ${body.error.code}: ${body.error.message}` : `${response.status} ok`;
}

/** `count` wrong old-system keys for `serviceHeader`, sent from `address`. */
async function guesses(bindings: Bindings, address: string, serviceHeader: string, count: number): Promise<string[]> {
  const answers: string[] = [];
  for (let n = 0; n < count; n += 1) {
    answers.push(await verifyFrom(bindings, address, `sk_live_guess_${crypto.randomUUID()}`, serviceHeader));
  }
  return answers;
}

const INVALID = '401 invalid_key: The service key is not valid.';
const LIMITED = '429 rate_limited: Too many key checks from your address; retry after the period in Retry-After.';

async function auditRowsFrom(address: string): Promise<number> {
  const result = await database.use((db) =>
    db.execute<{ count: string }>(sql`select count(*) as count from service_audit_logs where ip_address = ${address}`),
  );
  return Number(result.rows[0]?.count);
}

describe('the key-check budget per client address', () => {
  it("hundreds of guesses at an old-system service's key from one address leave its real key working from another", async () => {
    const legacyKey = 'sk_live_old_system_key_under_attack';
    const legacy = await insertLegacyService(database, legacyKey);
    await startEarlyInRateWindow();
    const attacker = freshAddress();
    const answers = await guesses(database.env, attacker, legacy.identifier, 300);
    expect(await verifyFrom(database.env, freshAddress(), legacyKey, legacy.identifier)).toBe('200 ok');
    // The attacker's own address ran out.
    expect(answers.slice(-1)).toEqual([LIMITED]);
  }, 60_000);

  it("guesses from one Worker leave another Worker's key working, though Cloudflare gives both the same address", async () => {
    const service = await registerService(database);
    const cold = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
    const fromWorker = (zone: string, key: string) =>
      callWorker(cold, '/v1/verify', {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${key}`,
          'Content-Type': 'application/json',
          'CF-Connecting-IP': WORKERS_EGRESS_ADDRESS,
          'CF-Worker': zone,
        },
        body: JSON.stringify({ user_id: crypto.randomUUID() }),
      });
    await startEarlyInRateWindow();
    const attacker = `guesser-${crypto.randomUUID().slice(0, 8)}.workers.dev`;
    const statuses: number[] = [];
    for (let n = 0; n < LIMIT + 3; n += 1) statuses.push((await fromWorker(attacker, 'gwk_AAAAAAAAAAAA_guess')).status);
    expect(statuses.slice(-3)).toEqual([429, 429, 429]);
    const victim = `billing-${crypto.randomUUID().slice(0, 8)}.example.com`;
    expect((await fromWorker(victim, service.key)).status).toBe(200);
  }, 60_000);

  it("after a rotation away from an old-system key, hundreds of guesses leave the new gwk_ key's cold check working", async () => {
    const legacy = await insertLegacyService(database, 'sk_live_old_system_key_rotated_under_attack');
    const rotated = await database.use((db) =>
      rotateServiceKey(db, legacy.identifier, 3600, undefined, { origin: TEST_OPERATOR }),
    );
    // No cache: every check of the new key is a cold one, as on an isolate that never saw it.
    const cold = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
    await startEarlyInRateWindow();
    const answers = await guesses(cold, freshAddress(), legacy.identifier, 300);
    expect(await verifyFrom(cold, freshAddress(), rotated.key)).toBe('200 ok');
    expect(answers.slice(-1)).toEqual([LIMITED]);
  }, 60_000);

  it('answers guesses alike for a service with an old-system key, one without, and an unknown id', async () => {
    const legacy = await insertLegacyService(database, 'sk_live_old_system_key_probed');
    const current = await registerService(database);
    await startEarlyInRateWindow();
    const sequences: Record<string, string[]> = {};
    for (const target of [legacy.identifier, current.identifier, 'no-such-service']) {
      sequences[target] = await guesses(database.env, freshAddress(), target, LIMIT + 5);
    }
    const expected = [...Array(LIMIT).fill(INVALID), ...Array(5).fill(LIMITED)];
    expect(sequences).toEqual({
      [legacy.identifier]: expected,
      [current.identifier]: expected,
      'no-such-service': expected,
    });
  }, 60_000);

  it('past the budget, writes no audit row and queries nothing, and logs one line with the count', async () => {
    const warnings: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
      warnings.push(String(line));
    });
    const errors = vi.spyOn(console, 'error');
    const target = await registerService(database);
    await startEarlyInRateWindow();
    const address = freshAddress();
    expect(new Set(await guesses(database.env, address, target.identifier, LIMIT))).toEqual(new Set([INVALID]));
    expect(new Set(await guesses(database.env, address, target.identifier, 20))).toEqual(new Set([LIMITED]));
    expect(await auditRowsFrom(address)).toBe(LIMIT);

    // The same address with the database on a closed port: any lookup or audit write would fail
    // (503, or a failed background write); the refusal needs neither.
    const closed = new URL(database.url);
    closed.port = '1';
    const noDatabase = { ...database.env, DATABASE_URL: closed.toString() };
    expect(await guesses(noDatabase, address, target.identifier, 3)).toEqual([LIMITED, LIMITED, LIMITED]);
    expect(await verifyFrom(noDatabase, address, target.key)).toBe(LIMITED);
    expect(errors.mock.calls.map((call) => String(call[0]))).toEqual([]);

    const lines = warnings
      .filter((line) => line.includes('client_budget.refused'))
      .map((line) => JSON.parse(line) as { address: string; refused: number });
    expect(lines).toEqual([expect.objectContaining({ address, refused: 1 })]);
  }, 60_000);

  it('is not spent by a key the isolate has verified, and is spent by unrouted /v1 paths', async () => {
    const service = await registerService(database);
    // A cache that outlasts the test, and no per-service limit: more calls than it allows are made here.
    const { SERVICE_RATE_LIMIT: _limiter, ...rest } = database.env;
    const bindings = { ...rest, VERIFY_CACHE_SECONDS: '300' };
    await startEarlyInRateWindow();
    const address = freshAddress();
    for (let n = 0; n < LIMIT + 5; n += 1) {
      expect(await verifyFrom(bindings, address, service.key)).toBe('200 ok');
    }
    const unrouted = async () => {
      const response = await callWorker(bindings, '/v1/no-such-route', {
        headers: { 'CF-Connecting-IP': address },
      });
      return `${response.status} ${((await response.json()) as { error: { code: string } }).error.code}`;
    };
    const answers: string[] = [];
    for (let n = 0; n < LIMIT + 1; n += 1) answers.push(await unrouted());
    // The one cold check of the key took a slot; the rest of the budget went to the unrouted calls.
    expect(answers.slice(0, LIMIT - 1)).toEqual(Array(LIMIT - 1).fill('404 not_found'));
    expect(answers.slice(LIMIT - 1)).toEqual(['429 rate_limited', '429 rate_limited']);
    // The cached key still works from there.
    expect(await verifyFrom(bindings, address, service.key)).toBe('200 ok');
  }, 60_000);
});

describe('the bucket of a client address', () => {
  it('is the IPv4 address itself, an IPv6 address by its /64, and one shared bucket without an address', () => {
    expect(clientBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(clientBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    const sameSubnet = [
      '2001:db8:0:2::1',
      '2001:DB8::2:ffff:1:2:3',
      '2001:0db8:0000:0002:abcd::9',
      '2001:db8:0:2::1.2.3.4',
    ];
    expect(new Set(sameSubnet.map((address) => clientBucket(address)))).toEqual(new Set(['2001:db8:0:2::/64']));
    expect(clientBucket('2001:db8:0:3::1')).toBe('2001:db8:0:3::/64');
    expect(clientBucket(undefined)).toBe(clientBucket(''));
    expect(clientBucket(undefined)).not.toBe(clientBucket('203.0.113.9'));
  });

  it("is the calling Worker's zone (CF-Worker) on Cloudflare's shared Workers address, and CF-Worker counts for nothing from any other address", () => {
    expect(clientBucket(WORKERS_EGRESS_ADDRESS, 'billing.example.com')).toBe('worker:billing.example.com');
    expect(clientBucket(WORKERS_EGRESS_ADDRESS, 'Billing.Example.COM')).toBe('worker:billing.example.com');
    expect(clientBucket(WORKERS_EGRESS_ADDRESS, 'other.workers.dev')).not.toBe(
      clientBucket(WORKERS_EGRESS_ADDRESS, 'billing.example.com'),
    );
    // Without the header, the shared address is one bucket like any other /64.
    expect(clientBucket(WORKERS_EGRESS_ADDRESS)).toBe('2a06:98c0:3600:0::/64');
    // Anyone else can send the header: it is ignored, or every request could name a budget of its own.
    expect(clientBucket('203.0.113.9', 'made-up.example')).toBe('203.0.113.9');
  });
});
