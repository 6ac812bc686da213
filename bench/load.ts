import autocannon from 'autocannon';

export interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** A fixed body, or one made per request (single-use login codes). */
  body?: string | (() => string);
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  total: number;
  /** CPU time of the Worker's process per request during the measured part, when it can be read. */
  cpuMsPerRequest: number;
}

export const CONNECTIONS = 64;
const WARM_UP_SECONDS = 3;
const MEASURE_SECONDS = 10;

/** Fixed concurrency for a fixed time, after a warm-up whose numbers are thrown away. */
export async function runLoad(
  base: URL,
  scenario: Scenario,
  cpuMs: () => number = () => Number.NaN,
  measureSeconds = MEASURE_SECONDS,
): Promise<LoadResult> {
  await fire(base, scenario, WARM_UP_SECONDS);
  const cpuBefore = cpuMs();
  const result = await fire(base, scenario, measureSeconds);
  const cpuUsed = cpuMs() - cpuBefore;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
    cpuMsPerRequest: Math.round((cpuUsed / Math.max(result.requests.total, 1)) * 1000) / 1000,
  };
}

/**
 * Exactly `amount` requests at the same concurrency, every one waited for: a count of attempts
 * answered that other counts (audit rows) can be compared with, which a timed run cannot give
 * (it stops with requests in flight).
 */
export async function runCount(
  base: URL,
  scenario: Scenario,
  amount: number,
): Promise<{ answered: number; errors: number; non2xx: number }> {
  const result = await fire(base, scenario, { amount });
  return { answered: result.requests.total, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

function fire(base: URL, scenario: Scenario, length: number | { amount: number }): Promise<autocannon.Result> {
  const body = scenario.body;
  return autocannon({
    url: new URL(scenario.path, base).toString(),
    connections: CONNECTIONS,
    ...(typeof length === 'number' ? { duration: length } : { amount: length.amount }),
    method: scenario.method,
    headers: scenario.headers ?? {},
    ...(typeof body === 'function'
      ? {
          requests: [
            { method: scenario.method, setupRequest: (request: autocannon.Request) => ({ ...request, body: body() }) },
          ],
        }
      : body !== undefined
        ? { body }
        : {}),
  });
}

/** `count` requests one after another, for counting what one request costs. */
export async function runSequential(base: URL, scenario: Scenario, count: number): Promise<number> {
  let failures = 0;
  for (let index = 0; index < count; index += 1) {
    const body = typeof scenario.body === 'function' ? scenario.body() : scenario.body;
    const response = await fetch(new URL(scenario.path, base), {
      method: scenario.method,
      headers: scenario.headers ?? {},
      ...(body ? { body } : {}),
    });
    await response.arrayBuffer();
    if (!response.ok) failures += 1;
  }
  return failures;
}

/** `count` requests one after another, each timed: the round trip one caller sees with no load. */
export async function timeSequential(base: URL, scenario: Scenario, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const body = typeof scenario.body === 'function' ? scenario.body() : scenario.body;
    const started = performance.now();
    const response = await fetch(new URL(scenario.path, base), {
      method: scenario.method,
      headers: scenario.headers ?? {},
      ...(body ? { body } : {}),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${scenario.name}: ${response.status} while timing it`);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}
