import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateServiceKey } from '../../src/crypto/service-keys.ts';
import { DEFAULT_CONNECT_TIMEOUT_MS as CONNECT_TIMEOUT_MS } from '../../src/db/client.ts';
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts';
import { describeError } from '../../src/http/logger.ts';
import worker from '../../src/index.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { authorizeAtGitHub, callback, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

/** The same Worker configuration with the database somewhere else (a closed port, a server that never answers). */
function databaseAt(port: number | string) {
  const url = new URL(database.url);
  url.port = String(port);
  return { ...database.env, DATABASE_URL: url.toString() };
}

const OUTAGE = {
  error: {
    code: 'database_unavailable',
    message: 'The database cannot be reached just now. Try again shortly.',
  },
};

async function verifyWith(bindings: ReturnType<typeof databaseAt>, key: string): Promise<Response> {
  return callWorker(bindings, '/v1/verify', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ user_id: crypto.randomUUID() }),
  });
}

describe('telling an outage from a bug', () => {
  it('counts lost connections, timeouts and a server going down as outages, and nothing else', () => {
    const failedQuery = (cause: unknown) => Object.assign(new Error('Failed query: select 1'), { cause });
    for (const outage of [
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Query read timeout'),
      failedQuery(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })),
      failedQuery(Object.assign(new Error('sorry, too many clients already'), { code: '53300' })),
      failedQuery(Object.assign(new Error('connection failure'), { code: '08006' })),
    ]) {
      expect(isDatabaseUnavailable(outage), outage.message).toBe(true);
    }
    for (const bug of [
      new Error('WebSocket is not defined'),
      failedQuery(Object.assign(new Error('bind message has 2 parameter formats'), { code: '08P01' })),
      failedQuery(Object.assign(new Error('relation "x" does not exist'), { code: '42P01' })),
      new TypeError('Cannot read properties of undefined'),
    ]) {
      expect(isDatabaseUnavailable(bug), bug.message).toBe(false);
    }
  });
});

describe('a failed query in a log line', () => {
  const drizzleError = (cause?: unknown) =>
    new Error('Failed query: update service_registry set api_key_hash = $1\nparams: pbkdf2-sha256$1000$c2FsdA$aGFzaA', {
      cause,
    });

  it('is its driver error, never the SQL or the parameters drizzle puts in its message', () => {
    const fromDriver = Object.assign(new Error('Connection terminated unexpectedly'), { code: '08006' });
    expect(describeError(drizzleError(fromDriver))).toEqual({
      name: 'Error',
      message: 'Connection terminated unexpectedly',
      code: '08006',
    });
    // A cause from another realm, or none at all: still nothing of the query.
    const errorLike = { name: 'NeonDbError', message: 'terminating connection', code: '57P01' };
    expect(describeError(drizzleError(errorLike))).toEqual({
      name: 'NeonDbError',
      message: 'terminating connection',
      code: '57P01',
    });
    const bare = JSON.stringify(describeError(drizzleError()));
    expect(bare).not.toContain('pbkdf2');
    expect(bare).not.toContain('params');
    expect(bare).not.toContain('api_key_hash');
  });
});

describe('the database is down', () => {
  it('an API call is 503 JSON with Retry-After, and the key is not echoed', async () => {
    // A key this isolate has never verified: authenticating it needs the database.
    const { key } = await generateServiceKey();
    const response = await verifyWith(databaseAt(1), key);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual(OUTAGE);
    expect(text).not.toContain(key.slice(4));
  });

  it('a database that accepts connections and never answers is 503 once the connect timeout passes', async () => {
    const { key } = await generateServiceKey();
    // Timed to the response itself: the audit write after it waits out its own connect timeout.
    const ctx = createExecutionContext();
    const started = Date.now();
    const response = await worker.fetch(
      new Request('https://gateway.test/v1/verify', {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ user_id: crypto.randomUUID() }),
      }),
      databaseAt(env.TEST_BLACKHOLE_PORT),
      ctx,
    );
    const elapsed = Date.now() - started;
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual(OUTAGE);
    expect(elapsed).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(CONNECT_TIMEOUT_MS + 2_000);
  }, 20_000);

  // A sign-in a service started goes back to it instead (temporarily_unavailable): sign-in.outcomes.test.ts.
  it('the sign-in callback shows the HTML error page with 503, not a JSON 500', async () => {
    const started = await startSignIn(database.env);
    const back = await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('outage'));
    const response = await callback(databaseAt(1), back, started.cookie);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.text()).toContain('Try again in a moment');
  });

  it('a database that refuses this login (it does not exist) is a 500: a misconfiguration, not an outage to retry', async () => {
    const url = new URL(database.url);
    url.pathname = '/no_such_database';
    const { key } = await generateServiceKey();
    const response = await verifyWith({ ...database.env, DATABASE_URL: url.toString() }, key);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('internal_error');
  });
});
