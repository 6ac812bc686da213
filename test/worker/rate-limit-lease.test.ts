import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { withinRateLimit } from '../../src/http/rate-limit-lease.ts';

// The real rate-limit binding (Miniflare's), LOW_CLIENT_RATE_LIMIT: 3 calls a minute per key. Each
// test wraps it to count the calls that reach it, and uses keys of its own.
const BINDING_LIMIT = 3;
const PERIOD_SECONDS = 60;

function countingLimiter(): { limiter: RateLimit; calls: () => number } {
  let calls = 0;
  const limiter: RateLimit = {
    limit: (options) => {
      calls += 1;
      return env.LOW_CLIENT_RATE_LIMIT.limit(options);
    },
  };
  return { limiter, calls: () => calls };
}

/** Miniflare's windows are aligned to the wall clock: start early in one, so a test stays in it. */
async function startEarlyInWindow(): Promise<void> {
  const intoWindow = Date.now() % (PERIOD_SECONDS * 1000);
  if (intoWindow > 40_000)
    await new Promise((resolve) => setTimeout(resolve, PERIOD_SECONDS * 1000 - intoWindow + 100));
}

async function takeInTurn(limiter: RateLimit, key: string, count: number, leaseSize: number): Promise<boolean[]> {
  const answers: boolean[] = [];
  for (let request = 0; request < count; request += 1) {
    answers.push(await withinRateLimit(limiter, key, { leaseSize, periodSeconds: PERIOD_SECONDS }));
  }
  return answers;
}

describe('rate limits taken in leases', () => {
  it('asks the binding once per lease of 10, and answers the binding’s limit times 10 in a window, then refuses', async () => {
    await startEarlyInWindow();
    const { limiter, calls } = countingLimiter();
    const key = crypto.randomUUID();
    const answers = await takeInTurn(limiter, key, 25, 10);
    expect(answers.every(Boolean)).toBe(true);
    expect(calls()).toBe(3);

    const rest = await takeInTurn(limiter, key, 8, 10);
    // 30 in all: the third lease's last 5, then the binding refuses a fourth, every time it is asked.
    expect(rest).toEqual([true, true, true, true, true, false, false, false]);
    expect(calls()).toBe(BINDING_LIMIT + 3);
  }, 40_000);

  it('requests that arrive together with no lease held each ask, and the leases granted answer those refused and the ones after', async () => {
    await startEarlyInWindow();
    const { limiter, calls } = countingLimiter();
    const key = crypto.randomUUID();
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS };
    // A Worker cannot wait on another request's call, so each of the 10 asks: 3 are granted (the
    // binding's limit) and the 7 refused are answered from what those 3 leases left.
    const together = await Promise.all(Array.from({ length: 10 }, () => withinRateLimit(limiter, key, options)));
    expect(together.every(Boolean)).toBe(true);
    expect(calls()).toBe(10);
    // 20 left of the 30 the three leases cover: answered without a call, then the 31st is refused.
    const after = await takeInTurn(limiter, key, 21, 10);
    expect(after.slice(0, 20).every(Boolean)).toBe(true);
    expect(after[20]).toBe(false);
    expect(calls()).toBe(11);
  }, 40_000);

  it('drops what is left of a lease when its window ends', async () => {
    const { limiter, calls } = countingLimiter();
    const key = crypto.randomUUID();
    let clock = 1_000 * PERIOD_SECONDS * 7 + 5_000;
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS, now: () => clock };
    expect(await withinRateLimit(limiter, key, options)).toBe(true);
    expect(await withinRateLimit(limiter, key, options)).toBe(true);
    expect(calls()).toBe(1);
    // The next window: the 8 left are not carried into it; a new lease is asked for.
    clock += PERIOD_SECONDS * 1000;
    expect(await withinRateLimit(limiter, key, options)).toBe(true);
    expect(calls()).toBe(2);
  });

  it('keeps nothing of a lease granted as its window ended', async () => {
    const { limiter, calls } = countingLimiter();
    const key = crypto.randomUUID();
    const windowStart = 1_000 * PERIOD_SECONDS * 9;
    let clock = windowStart - 1;
    // The first call answers as the clock passes into the next window.
    const crossing: RateLimit = {
      limit: async (options) => {
        const outcome = await limiter.limit(options);
        if (calls() === 1) clock = windowStart + 1;
        return outcome;
      },
    };
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS, now: () => clock };
    expect(await withinRateLimit(crossing, key, options)).toBe(true);
    // The next request, in the new window, finds nothing left and asks again.
    expect(await withinRateLimit(crossing, key, options)).toBe(true);
    expect(calls()).toBe(2);
    // That lease is kept: the one after takes from it.
    expect(await withinRateLimit(crossing, key, options)).toBe(true);
    expect(calls()).toBe(2);
  });

  it('past its bound on keys, drops the leases taken longest ago and keeps the others', async () => {
    await startEarlyInWindow();
    const { limiter, calls } = countingLimiter();
    const keys = Array.from({ length: 10 }, () => crypto.randomUUID());
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS, maxKeys: 10 };
    for (const key of keys) expect(await withinRateLimit(limiter, key, options)).toBe(true);
    expect(calls()).toBe(10);
    // An eleventh key: the first key's lease goes, the nine after it stay.
    expect(await withinRateLimit(limiter, crypto.randomUUID(), options)).toBe(true);
    expect(calls()).toBe(11);
    for (const key of keys.slice(1)) expect(await withinRateLimit(limiter, key, options)).toBe(true);
    expect(calls()).toBe(11);
    expect(await withinRateLimit(limiter, keys[0] ?? '', options)).toBe(true);
    expect(calls()).toBe(12);
  }, 40_000);

  it('keeps each binding’s leases apart, and each key’s', async () => {
    await startEarlyInWindow();
    const first = countingLimiter();
    const second = countingLimiter();
    const key = crypto.randomUUID();
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS };
    expect(await withinRateLimit(first.limiter, key, options)).toBe(true);
    expect(await withinRateLimit(second.limiter, key, options)).toBe(true);
    expect(await withinRateLimit(first.limiter, crypto.randomUUID(), options)).toBe(true);
    expect([first.calls(), second.calls()]).toEqual([2, 1]);
  }, 40_000);

  it('with a lease of 1, calls the binding for every request and answers exactly its limit', async () => {
    await startEarlyInWindow();
    const { limiter, calls } = countingLimiter();
    const answers = await takeInTurn(limiter, crypto.randomUUID(), BINDING_LIMIT + 2, 1);
    expect(answers).toEqual([true, true, true, false, false]);
    expect(calls()).toBe(BINDING_LIMIT + 2);
  }, 40_000);

  it('a binding that fails fails the request that asked, and the next request asks again', async () => {
    let calls = 0;
    const broken: RateLimit = {
      limit: async () => {
        calls += 1;
        throw new Error('binding unavailable');
      },
    };
    const key = crypto.randomUUID();
    const options = { leaseSize: 10, periodSeconds: PERIOD_SECONDS };
    await expect(withinRateLimit(broken, key, options)).rejects.toThrow('binding unavailable');
    await expect(withinRateLimit(broken, key, options)).rejects.toThrow('binding unavailable');
    expect(calls).toBe(2);
  });
});
