/**
 * A rate-limit binding asked once per lease instead of once per request.
 *
 * With RATE_LIMIT_LEASE = N above 1, the binding's limit counts leases of N requests: one
 * successful `limit()` call lets this isolate answer N requests for that key, until the period's
 * window (aligned to the wall clock, as the local runtime's counters are) ends, when whatever is
 * left of the lease is dropped. So the requests answered for a key in a window are at most the
 * binding's limit times N, across every isolate, as with a call per request; what changes is that
 * an isolate may end a window with up to N - 1 of a lease unused (a key spread thinly over many
 * isolates reaches its 429 somewhat early), and that the binding is called once per N requests.
 * Every request is still counted against its key's limit: here, in the lease.
 *
 * With N = 1 (the default) every request calls the binding, as before leases existed.
 */

interface Lease {
  /** The window the lease belongs to: `floor(now / period)`. */
  window: number;
  /** Requests still to answer from it. */
  remaining: number;
  /** The binding call under way for this key, which every request waiting for a lease shares. */
  pending: Promise<boolean> | undefined;
}

/** Each binding's leases by key: a binding's counters are its own, so are its leases. */
const leasesByLimiter = new WeakMap<RateLimit, Map<string, Lease>>();
/**
 * Keys one binding keeps leases for in an isolate (many client addresses in one window): past it,
 * idle leases are dropped, which only refuses sooner (their unused requests are not answered).
 */
const MAX_LEASED_KEYS = 10_000;

export interface LeaseOptions {
  /** Requests one successful binding call lets this isolate answer (RATE_LIMIT_LEASE). */
  leaseSize: number;
  /** The binding's period in seconds, as configured in wrangler.toml. */
  periodSeconds: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Whether this request is within `key`'s limit: true answers it, false is the 429. */
export async function withinRateLimit(limiter: RateLimit, key: string, options: LeaseOptions): Promise<boolean> {
  if (options.leaseSize <= 1) return (await limiter.limit({ key })).success;
  const now = options.now ?? Date.now;
  const periodMs = options.periodSeconds * 1000;
  const leases = leasesOf(limiter);
  for (;;) {
    const window = Math.floor(now() / periodMs);
    let lease = leases.get(key);
    if (!lease || lease.window !== window) {
      if (lease || leases.size >= MAX_LEASED_KEYS) forgetLeases(leases, window);
      lease = { window, remaining: 0, pending: undefined };
      leases.set(key, lease);
    }
    if (lease.remaining > 0) {
      lease.remaining -= 1;
      return true;
    }
    // One call at a time per key: the requests that arrive while it is under way share its answer,
    // instead of each taking a lease of its own that the window might end before they use.
    lease.pending ??= askForLease(limiter, key, lease, options.leaseSize);
    // Refused: this request and every one waiting with it are past the limit. Granted: take a
    // request from it, or, if the others waiting took them all, ask again.
    if (!(await lease.pending)) return false;
  }
}

async function askForLease(limiter: RateLimit, key: string, lease: Lease, leaseSize: number): Promise<boolean> {
  try {
    const { success } = await limiter.limit({ key });
    if (success) lease.remaining += leaseSize;
    return success;
  } finally {
    lease.pending = undefined;
  }
}

function leasesOf(limiter: RateLimit): Map<string, Lease> {
  let leases = leasesByLimiter.get(limiter);
  if (!leases) {
    leases = new Map();
    leasesByLimiter.set(limiter, leases);
  }
  return leases;
}

/**
 * Drops the leases of windows that have ended, so memory follows the keys seen this window; and,
 * past MAX_LEASED_KEYS, every idle one.
 */
function forgetLeases(leases: Map<string, Lease>, window: number): void {
  for (const [key, lease] of leases) {
    if (lease.window < window && !lease.pending) leases.delete(key);
  }
  if (leases.size < MAX_LEASED_KEYS) return;
  for (const [key, lease] of leases) {
    if (!lease.pending) leases.delete(key);
  }
}
