import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayStack, type RunningWorker, startGatewayStack, startWorker } from '../../bench/gateway-stack.ts';
import { runCount, runLoad, type Scenario } from '../../bench/load.ts';
import { type BenchData, seedBenchData } from '../../bench/seed.ts';

// `npm run test:load`: the benchmark's verify scenarios held for a minute on loopback (it stops
// by itself), checking that nothing fails and nothing is left open afterwards; before that, a
// counted burst of verifies at the same concurrency, checking one audit row per attempt answered.

const SECONDS_EACH = 30;
/** Attempts in the counted bursts: the warm verify's, then the cold verify's (a database round trip each). */
const COUNTED = { warm: 6400, cold: 640 };

let stack: GatewayStack;
let warm: RunningWorker;
let cold: RunningWorker;
let data: BenchData;
beforeAll(async () => {
  stack = await startGatewayStack();
  warm = await startWorker(stack, { cacheSeconds: 10, auditConsumer: true });
  cold = await startWorker(stack, { cacheSeconds: 0, auditConsumer: true });
  data = await seedBenchData(stack, warm.url);
}, 120_000);

afterAll(async () => {
  await warm?.stop();
  await cold?.stop();
  await stack?.stop();
}, 60_000);

/** Server connections other than this test's own, as Postgres sees them. */
async function otherBackends(): Promise<number> {
  const result = await stack.database.db.execute<{ count: number }>(
    sql`select count(*)::int as count from pg_stat_activity
         where backend_type = 'client backend' and pid <> pg_backend_pid()`,
  );
  return result.rows[0]?.count ?? -1;
}

async function settled(read: () => number | Promise<number>, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (value > target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  return value;
}

async function verifyAuditRows(): Promise<number> {
  const result = await stack.database.db.execute<{ count: number }>(
    sql`select count(*)::int as count from service_audit_logs where service_id = ${data.serviceId} and action = 'verify'`,
  );
  return result.rows[0]?.count ?? -1;
}

/** Waits until the count stops short of `target` no longer (the queue consumer writes in batches), then reads it. */
async function auditRowsReaching(target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let rows = await verifyAuditRows();
  while (rows < target && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    rows = await verifyAuditRows();
  }
  // A moment more, so a row written twice would show as more than the target.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return verifyAuditRows();
}

describe(`verify under load for ${2 * SECONDS_EACH} s`, () => {
  it('writes exactly one audit row per verify answered at 64 connections, warm and cold (through the batched queue)', async () => {
    const verify: Scenario = {
      name: 'verify',
      method: 'POST',
      path: '/v1/verify',
      headers: { Authorization: `Bearer ${data.serviceKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ session: data.sessionToken }),
    };
    const before = await verifyAuditRows();
    const warmBurst = await runCount(warm.url, verify, COUNTED.warm);
    expect(warmBurst).toEqual({ answered: COUNTED.warm, errors: 0, non2xx: 0 });
    expect(await auditRowsReaching(before + COUNTED.warm, 60_000)).toBe(before + COUNTED.warm);
    const coldBurst = await runCount(cold.url, verify, COUNTED.cold);
    expect(coldBurst).toEqual({ answered: COUNTED.cold, errors: 0, non2xx: 0 });
    const total = before + COUNTED.warm + COUNTED.cold;
    expect(await auditRowsReaching(total, 60_000)).toBe(total);
  }, 240_000);

  it('answers every call with 200 and leaves no database connection open', async () => {
    const before = { bridge: stack.bridge.stats.connectionsOpen, backends: await otherBackends() };
    const verify: Scenario = {
      name: 'verify',
      method: 'POST',
      path: '/v1/verify',
      headers: { Authorization: `Bearer ${data.serviceKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ session: data.sessionToken }),
    };
    const opened = stack.bridge.stats.connectionsOpened;
    const results = {
      warm: await runLoad(warm.url, verify, warm.cpuMs, SECONDS_EACH),
      cold: await runLoad(cold.url, verify, cold.cpuMs, SECONDS_EACH),
    };
    console.log(
      JSON.stringify({ ...results, connectionsOpenedDuringLoad: stack.bridge.stats.connectionsOpened - opened }),
    );
    for (const result of Object.values(results)) {
      expect(result.total).toBeGreaterThan(0);
      expect(result.errors).toBe(0);
      expect(result.non2xx).toBe(0);
    }
    // The cold run opened a connection per call; every one of them is closed again.
    expect(stack.bridge.stats.connectionsOpened - opened).toBeGreaterThan(results.cold.total * 0.9);
    const after = {
      bridge: await settled(() => stack.bridge.stats.connectionsOpen, before.bridge, 15_000),
      backends: await settled(otherBackends, before.backends, 15_000),
    };
    console.log(`open connections before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    expect(after.bridge).toBeLessThanOrEqual(before.bridge);
    expect(after.backends).toBeLessThanOrEqual(before.backends);
  }, 240_000);
});
