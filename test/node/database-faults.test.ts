import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayStack, type RunningWorker, startGatewayStack, startWorker } from '../../bench/gateway-stack.ts';
import { type BenchData, seedBenchData } from '../../bench/seed.ts';

// The real thing under real faults: the Worker built as deployed, in workerd with its audit
// queue and consumer, against embedded Postgres that is shut down, started again and frozen
// while verify calls keep arriving. Nothing here restarts the Worker.

const CLIENTS = 6;
/** The longest any answer may take: the connect timeout (5 s) plus room for a loaded machine. */
const ANSWER_BOUND_MS = 9_000;

interface Answer {
  status: number;
  code: string | null;
  ms: number;
  phase: string;
}

let stack: GatewayStack;
let worker: RunningWorker;
let data: BenchData;
beforeAll(async () => {
  stack = await startGatewayStack();
  // The cache off: every call authenticates its key against the database, so every call feels a fault.
  // Errors only: every 503 would otherwise log a warning line (1,000+ here).
  worker = await startWorker(stack, { cacheSeconds: 0, auditConsumer: true, logLevel: 'error' });
  data = await seedBenchData(stack, worker.url);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
}, 60_000);

/** Verify calls from CLIENTS concurrent callers until stopped; every answer is kept, with the phase it arrived in. */
function keepCalling(phase: { current: string }) {
  const answers: Answer[] = [];
  const failures: string[] = [];
  let running = true;
  const caller = async () => {
    while (running) {
      const started = performance.now();
      const sentIn = phase.current;
      try {
        const response = await fetch(new URL('/v1/verify', worker.url), {
          method: 'POST',
          headers: { Authorization: `Bearer ${data.serviceKey}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ session: data.sessionToken }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await response.json()) as { code?: string; error?: { code: string } };
        answers.push({
          status: response.status,
          code: body.error?.code ?? body.code ?? null,
          ms: performance.now() - started,
          phase: sentIn,
        });
      } catch (error) {
        failures.push(`${sentIn}: ${String(error)}`);
      }
    }
  };
  const callers = Array.from({ length: CLIENTS }, caller);
  return {
    answers,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(callers);
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function verifyAuditRows(): Promise<number> {
  const result = await stack.database.db.execute<{ count: number }>(
    // Only this test's calls: the seeding's sign-in and exchange may still be on their way.
    sql`select count(*)::int as count from service_audit_logs where action = 'verify'`,
  );
  return result.rows[0]?.count ?? -1;
}

describe('the database fails under load', () => {
  it('answers every call in bounded time (503 JSON while it is away), recovers by itself, and loses no audit row', async () => {
    const rowsBefore = await verifyAuditRows();
    const phase = { current: 'up' };
    const load = keepCalling(phase);

    await sleep(2_000);
    phase.current = 'shut down';
    await stack.faults.shutDown();
    await sleep(4_000);
    phase.current = 'restarting';
    await stack.faults.startAgain();
    await sleep(2_000);
    phase.current = 'frozen';
    stack.faults.freeze();
    await sleep(7_000);
    phase.current = 'thawed';
    stack.faults.thaw();
    await sleep(4_000);
    phase.current = 'recovered';
    await sleep(3_000);
    await load.stop();

    const { answers } = load;
    const byPhase = (name: string) => answers.filter((answer) => answer.phase === name);
    const summary = Object.fromEntries(
      ['up', 'shut down', 'restarting', 'frozen', 'thawed', 'recovered'].map((name) => [
        name,
        {
          answers: byPhase(name).length,
          ok: byPhase(name).filter((a) => a.status === 200).length,
          unavailable: byPhase(name).filter((a) => a.status === 503).length,
          slowestMs: Math.round(Math.max(0, ...byPhase(name).map((a) => a.ms))),
        },
      ]),
    );
    console.log('answers by phase:', JSON.stringify(summary));

    // Every call got an answer: no dropped connection, no hang.
    expect(load.failures).toEqual([]);
    // Each one either a verdict or the documented outage answer, and none took longer than the bound.
    const unexpected = answers.filter(
      (a) => !(a.status === 200 && a.code === 'ok') && !(a.status === 503 && a.code === 'database_unavailable'),
    );
    expect(unexpected).toEqual([]);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(ANSWER_BOUND_MS);
    // The faults were felt (both kinds), and the Worker came back on its own.
    expect(byPhase('shut down').some((a) => a.status === 503)).toBe(true);
    expect(byPhase('frozen').some((a) => a.status === 503)).toBe(true);
    expect(byPhase('recovered').length).toBeGreaterThan(10);
    expect(byPhase('recovered').every((a) => a.status === 200)).toBe(true);

    // One audit row per call, including those answered while the database was away: they wait
    // in the queue and the consumer retries until the database takes them.
    const expected = rowsBefore + answers.length;
    const deadline = Date.now() + 90_000;
    let rows = await verifyAuditRows();
    while (rows < expected && Date.now() < deadline) {
      await sleep(1_000);
      rows = await verifyAuditRows();
    }
    console.log(
      `audit rows: ${rows - rowsBefore} written for ${answers.length} answers ` +
        `(${answers.filter((a) => a.status === 503).length} of them 503); lost ${expected - rows}`,
    );
    expect(rows).toBe(expected);
    // And each row says what the caller was told.
    const outages = await stack.database.db.execute<{ count: number }>(
      sql`select count(*)::int as count from service_audit_logs where action = 'verify' and failure_reason = 'database_unavailable'`,
    );
    expect(outages.rows[0]?.count).toBe(answers.filter((a) => a.status === 503).length);
  }, 180_000);
});
