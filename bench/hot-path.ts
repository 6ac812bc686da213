// node bench/hot-path.ts [--runs 3] [--seconds 10] [--profile] [--cold] — the warm verify alone,
// against the ceiling, several times in a row: what docs/performance.md's per-change figures come
// from (one change at a time, the median of the runs on a shared machine). With --profile, one more
// verify load with workerd's CPU profiler on, and the frames with the most self time. With --cold,
// the cold verify (cache off: a connection, the lookups and a PBKDF2 per request) instead.
// Same stack and load as `npm run bench` (bench/gateway-stack.ts, bench/load.ts); loopback only.

import { parseArgs } from 'node:util';
import { findFreePort } from '../scripts/lib/dev/ports.ts';
import { openProfiler, summarizeProfile } from './cpu-profile.ts';
import { startGatewayStack, startWorker } from './gateway-stack.ts';
import { type LoadResult, runLoad, type Scenario } from './load.ts';
import { seedBenchData } from './seed.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    profile: { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
  },
});
const runs = boundedInteger(values.runs, 'runs', 1, 9);
const seconds = boundedInteger(values.seconds, 'seconds', 2, 30);

const stack = await startGatewayStack();
try {
  const inspectorPort = values.profile ? await findFreePort() : undefined;
  const worker = await startWorker(stack, {
    cacheSeconds: values.cold ? 0 : 10,
    auditConsumer: true,
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
  });
  const data = await seedBenchData(stack, worker.url);
  const ceiling: Scenario = { name: 'ceiling (GET /livez)', method: 'GET', path: '/livez' };
  const verifyScenario: Scenario = {
    name: values.cold ? 'verify, cold (cache off)' : 'verify, warm (cache hit)',
    method: 'POST',
    path: '/v1/verify',
    headers: { Authorization: `Bearer ${data.serviceKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ session: data.sessionToken }),
  };
  const results: { ceiling: LoadResult; verify: LoadResult }[] = [];
  for (let run = 1; run <= runs; run += 1) {
    const result = {
      ceiling: await runLoad(worker.url, ceiling, worker.cpuMs, seconds),
      verify: await runLoad(worker.url, verifyScenario, worker.cpuMs, seconds),
    };
    for (const load of [result.ceiling, result.verify]) {
      if (load.errors + load.non2xx > 0) throw new Error(`run ${run}: ${load.errors + load.non2xx} errors`);
    }
    results.push(result);
    console.log(`run ${run}: ${describe(result)}`);
  }
  const median = (pick: (result: { ceiling: LoadResult; verify: LoadResult }) => number) =>
    results.map(pick).sort((a, b) => a - b)[Math.floor(results.length / 2)] ?? Number.NaN;
  console.log(
    `median of ${runs}: ceiling ${median((r) => r.ceiling.requestsPerSecond)} req/s; ${verifyScenario.name} ` +
      `${median((r) => r.verify.requestsPerSecond)} req/s, x${median((r) => ratio(r))} of the ceiling, ` +
      `workerd CPU ${median((r) => r.verify.cpuMsPerRequest)} ms / request`,
  );

  if (inspectorPort !== undefined) {
    const profiler = await openProfiler(inspectorPort, 'gateway');
    try {
      await profiler.start();
      const load = await runLoad(worker.url, verifyScenario, worker.cpuMs, seconds);
      const summary = summarizeProfile(await profiler.stop(), stack.worker.scriptPath);
      console.log(
        `profile of ${verifyScenario.name} (${load.requestsPerSecond} req/s while profiled): ${summary.sampledMs} ms sampled, ` +
          `${summary.idleMs} ms idle; top frames by self time (% of the busy time):`,
      );
      console.log('| frame | self ms | % |\n| --- | --- | --- |');
      for (const frame of summary.top) console.log(`| \`${frame.frame}\` | ${frame.selfMs} | ${frame.selfPercent} |`);
    } finally {
      profiler.close();
    }
  }
  await worker.stop();
} finally {
  await stack.stop();
}

function describe(result: { ceiling: LoadResult; verify: LoadResult }): string {
  return (
    `ceiling ${result.ceiling.requestsPerSecond} req/s (CPU ${result.ceiling.cpuMsPerRequest} ms); ` +
    `verify ${result.verify.requestsPerSecond} req/s p50 ${result.verify.p50Ms} ms p99 ${result.verify.p99Ms} ms, ` +
    `x${ratio(result)} of the ceiling, CPU ${result.verify.cpuMsPerRequest} ms / request`
  );
}

function ratio(result: { ceiling: LoadResult; verify: LoadResult }): number {
  return Math.round((result.verify.requestsPerSecond / result.ceiling.requestsPerSecond) * 100) / 100;
}

function boundedInteger(text: string, name: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    console.error(`--${name} takes a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
    process.exit(2);
  }
  return value;
}
