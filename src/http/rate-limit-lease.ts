/**
 * A rate-limit binding asked once per lease instead of once per request.
 *
 * With RATE_LIMIT_LEASE = N above 1, the binding's limit counts leases of N requests: one
 * successful `limit()` call lets this isolate answer N requests for that key, until the period's
 * window (aligned to the wall clock, as the local runtime's counters are) ends, when whatever is
 * left of the lease is dropped. So the requests answered for a key in a window are at most the
 * binding's limit times N wherever the binding counts (per Cloudflare location), as with a call per
 * request; what changes is that
 * the binding is called once per N requests, and that an isolate may end a window with part of its
 * leases unused (N - 1 at most per ask that was under way at once): a key spread thinly over many
 * isolates reaches its 429 somewhat early. Every request is still counted against its key's limit,
 * here, in a lease; none is answered that a granted lease does not cover.
 *
 * With N = 1 (the default) every request calls the binding, as before leases existed.
 */

interface Lease {
  /** The window the lease belongs to: `floor(now / period)`. */
  window: number;
  /** Requests still to answer from it. */
  remaining: number;
}

/** Each binding's leases by key: a binding's counters are its own, so are its leases. */
const leasesByLimiter = new WeakMap<RateLimit, Map<string, Lease>>();
/**
 * Keys one binding keeps leases for in an isolate (many client addresses in one window): past it,
 * the tenth of them leased longest ago are dropped, which only refuses sooner (their unused
 * requests are not answered) and leaves the keys leased since as they are.
 */
const MAX_LEASED_KEYS = 10_000;

export interface LeaseOptions {
  /** Requests one successful binding call lets this isolate answer (RATE_LIMIT_LEASE). */
  leaseSize: number;
  /** The binding's period in seconds, as configured in wrangler.toml. */
  periodSeconds: number;
  /** The clock, for tests. */
  now?: () => number;
  /** MAX_LEASED_KEYS, for tests. */
  maxKeys?: number;
}

/** Whether this request is within `key`'s limit: true answers it, false is the 429. */
export async function withinRateLimit(limiter: RateLimit, key: string, options: LeaseOptions): Promise<boolean> {
  if (options.leaseSize <= 1) return (await limiter.limit({ key })).success;
  const now = options.now ?? Date.now;
  const periodMs = options.periodSeconds * 1000;
  const leases = leasesOf(limiter);
  const held = leases.get(key);
  const window = Math.floor(now() / periodMs);
  if (held && held.window === window && held.remaining > 0) {
    held.remaining -= 1;
    return true;
  }
  // This request asks for a lease itself, even while another request's ask is under way: Workers
  // cancel a request that waits on a promise another request made. Every granted lease is used by
  // later requests of its window, so this costs a call per lease all the same; what a window ends
  // with unused is at most a lease per ask that was under way at once.
  const { success } = await limiter.limit({ key });
  const current = leases.get(key);
  if (!success) {
    // Refused, but an ask under way at the same time may have been granted meanwhile.
    if (current && current.window === window && current.remaining > 0 && Math.floor(now() / periodMs) === window) {
      current.remaining -= 1;
      return true;
    }
    return false;
  }
  // A window that ended while the binding answered keeps nothing of the lease: the binding may have
  // counted it in the window that ended, and the new one must not spend it.
  if (Math.floor(now() / periodMs) !== window) return true;
  if (current && current.window === window) {
    current.remaining += options.leaseSize - 1;
  } else {
    const maxKeys = options.maxKeys ?? MAX_LEASED_KEYS;
    if (leases.size >= maxKeys || current) forgetLeases(leases, window, maxKeys);
    leases.set(key, { window, remaining: options.leaseSize - 1 });
  }
  return true;
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
 * past `maxKeys`, the tenth leased longest ago (a Map keeps insertion order: a key's lease is set
 * anew each window).
 */
function forgetLeases(leases: Map<string, Lease>, window: number, maxKeys: number): void {
  for (const [key, lease] of leases) {
    if (lease.window < window) leases.delete(key);
  }
  if (leases.size < maxKeys) return;
  let excess = leases.size - Math.floor(maxKeys * 0.9);
  for (const key of leases.keys()) {
    if (excess <= 0) break;
    leases.delete(key);
    excess -= 1;
  }
}
