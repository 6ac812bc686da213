import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_PROBE_TIMEOUT_MS } from '../../src/routes/health.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

function pointAt(port: number | string) {
  const url = new URL(database.url);
  url.port = String(port);
  return { ...database.env, DATABASE_URL: url.toString() };
}

describe('GET /health', () => {
  it('is 200 with the database reachable and its round-trip time', async () => {
    const response = await callWorker(database.env, '/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { status: string; database: { reachable: boolean; roundTripMs: number } };
    expect(body.status).toBe('ok');
    expect(body.database.reachable).toBe(true);
    expect(body.database.roundTripMs).toBeGreaterThan(0);
    expect(body.database.roundTripMs).toBeLessThan(HEALTH_PROBE_TIMEOUT_MS);
  });

  it('is 503 with a JSON error when DATABASE_URL points at a closed port', async () => {
    const response = await callWorker(pointAt(1), '/health');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({
      error: { code: 'database_unavailable', message: 'The database cannot be reached.' },
    });
  });

  it('is 503 within its time bound when the database accepts the connection and never answers', async () => {
    const started = Date.now();
    const response = await callWorker(pointAt(env.TEST_BLACKHOLE_PORT), '/health');
    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('database_unavailable');
    expect(body.error.message).toContain(`${HEALTH_PROBE_TIMEOUT_MS} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(HEALTH_PROBE_TIMEOUT_MS - 50);
  }, 15_000);
});
