import { type Unstable_DevWorker, unstable_dev } from 'wrangler';

/** What one offline verify costs inside workerd (issue 18): the client's verifyAssertion. */
export interface OfflineVerifyFigures {
  batches: number;
  verifiesPerBatch: number;
  /** Per verify, from each batch's time divided by its size. */
  p50Microseconds: number;
  p99Microseconds: number;
  verifiesPerSecond: number;
  /** Key set fetches the client made over the whole run: 1, it keeps the set. */
  keySetFetches: number;
  /** How the batches were timed: inside the isolate, or from outside when its clock stood still. */
  clock: 'inside' | 'outside';
  /** The other clock's p50, as a check: from outside it includes the request, minus an empty one. */
  crossCheckP50Microseconds: number;
}

const VERIFIES_PER_BATCH = 500;
const BATCHES = 60;

export interface OfflineVerifyTarget {
  gatewayUrl: URL;
  serviceId: string;
  serviceKey: string;
  sessionToken: string;
}

/**
 * A real assertion from the gateway (`POST /v1/sessions/assertion`), verified BATCHES times
 * VERIFIES_PER_BATCH times by the client inside a bench Worker. Each batch's time, divided by
 * its size, is one sample: workerd's clock moves only between I/O, so a single verify cannot be
 * timed. Before measuring, a tampered copy must be refused, so a verify that checks nothing
 * cannot be what is measured.
 */
export async function measureOfflineVerify(target: OfflineVerifyTarget): Promise<OfflineVerifyFigures> {
  const assertion = await fetchAssertion(target);
  const worker: Unstable_DevWorker = await unstable_dev('bench/workers/offline-verify.ts', {
    config: 'bench/workers/offline-verify.toml',
    ip: '127.0.0.1',
    logLevel: 'error',
    experimental: { disableExperimentalWarning: true },
  });
  try {
    const batch = async (token: string, n: number) => {
      const started = performance.now();
      const response = await worker.fetch('http://bench/verify', {
        method: 'POST',
        body: JSON.stringify({ gatewayUrl: target.gatewayUrl.href, serviceId: target.serviceId, assertion: token, n }),
      });
      const answer = (await response.json()) as BatchAnswer;
      return { ...answer, outsideMs: performance.now() - started };
    };
    const tampered = await batch(tamper(assertion), 1);
    if (tampered.verified !== 0 || tampered.refusal !== 'bad_signature') {
      throw new Error(`the bench Worker did not refuse a tampered assertion: ${JSON.stringify(tampered)}`);
    }
    await batch(assertion, VERIFIES_PER_BATCH); // warm-up: JIT, the key set already fetched above
    const inside: number[] = [];
    const outside: number[] = [];
    let keySetFetches = 0;
    for (let round = 0; round < BATCHES; round += 1) {
      const empty = await batch(assertion, 0);
      const full = await batch(assertion, VERIFIES_PER_BATCH);
      if (full.verified !== VERIFIES_PER_BATCH)
        throw new Error(`offline verify refused the gateway's assertion: ${full.refusal}`);
      inside.push(full.insideMs / VERIFIES_PER_BATCH);
      outside.push(Math.max(full.outsideMs - empty.outsideMs, 0) / VERIFIES_PER_BATCH);
      keySetFetches = full.keySetFetches;
    }
    // Inside is the honest number when the isolate's clock moved; if it stood still, the batch
    // minus an empty request, timed from outside, is the next best.
    const clock = inside.every((ms) => ms > 0) ? 'inside' : 'outside';
    const samples = (clock === 'inside' ? inside : outside).sort((a, b) => a - b);
    const other = (clock === 'inside' ? outside : inside).sort((a, b) => a - b);
    const p50 = percentile(samples, 0.5) * 1000;
    return {
      batches: BATCHES,
      verifiesPerBatch: VERIFIES_PER_BATCH,
      p50Microseconds: round(p50),
      p99Microseconds: round(percentile(samples, 0.99) * 1000),
      verifiesPerSecond: Math.round(1e6 / p50),
      keySetFetches,
      clock,
      crossCheckP50Microseconds: round(percentile(other, 0.5) * 1000),
    };
  } finally {
    await worker.stop();
  }
}

interface BatchAnswer {
  n: number;
  verified: number;
  refusal: string | null;
  insideMs: number;
  keySetFetches: number;
}

async function fetchAssertion(target: OfflineVerifyTarget): Promise<string> {
  const response = await fetch(new URL('/v1/sessions/assertion', target.gatewayUrl), {
    method: 'POST',
    headers: { Authorization: `Bearer ${target.serviceKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ session: target.sessionToken }),
  });
  const body = (await response.json()) as { valid: boolean; assertion: { token: string } | null };
  if (!body.valid || body.assertion === null) {
    throw new Error(`the gateway signed no assertion (${response.status}): is ASSERTION_SIGNING_KEY bound?`);
  }
  return body.assertion.token;
}

/** The same header and claims with one signature byte changed. */
export function tamper(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  return `${header}.${payload}.${flipped}`;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
