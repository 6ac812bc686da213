import type { Context } from 'hono';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from './context.ts';
import type { Logger } from './logger.ts';
import { withinRateLimit } from './rate-limit-lease.ts';

/**
 * The budget of work a client address may cause without a key this isolate has already verified:
 * every /v1 request the verified-key cache does not answer takes one slot of CLIENT_RATE_LIMIT
 * (keyed by CF-Connecting-IP) before any database lookup, key hash or audit row. Past it the
 * answer is 429 and nothing is looked up, hashed or written. Per address rather than per service,
 * so guesses at one service's keys spend only the guesser's budget, never the service's, and every
 * service id gets the same answers whatever key it holds.
 */

export const CLIENT_BUDGET_PERIOD_SECONDS = 60;
/**
 * The address Cloudflare gives every request a Worker sends to another zone, whoever owns the
 * Worker; such requests also carry `CF-Worker`, the sending Worker's zone, set by Cloudflare. By
 * address alone every service running on Workers would share one budget with every other Worker.
 */
export const WORKERS_EGRESS_ADDRESS = '2a06:98c0:3600::103';
/** Requests without CF-Connecting-IP (local runs, tests) share one bucket, named for that. */
const NO_ADDRESS = 'no-address';

/** A request's draw, so that it draws at most once whichever middleware asks first. */
const draws = new WeakMap<Request, Promise<boolean>>();
/** Requests the budget refused: the audit middleware writes no row for them. */
const refused = new WeakSet<Request>();

/** Takes a slot of the caller's budget (once per request); past it, throws the 429. */
export async function requireClientBudget(c: Context<AppEnv>): Promise<void> {
  let draw = draws.get(c.req.raw);
  if (!draw) {
    draw = drawSlot(c);
    draws.set(c.req.raw, draw);
  }
  if (!(await draw)) {
    throw new GatewayError(
      'rate_limited',
      'rate_limited',
      'Too many key checks from your address; retry after the period in Retry-After.',
      { headers: { 'Retry-After': String(CLIENT_BUDGET_PERIOD_SECONDS) } },
    );
  }
}

/** Whether this request was refused by the budget (and so caused no database work). */
export function refusedByClientBudget(c: Context<AppEnv>): boolean {
  return refused.has(c.req.raw);
}

async function drawSlot(c: Context<AppEnv>): Promise<boolean> {
  const limiter = c.env.CLIENT_RATE_LIMIT;
  if (!limiter) return true;
  const bucket = clientBucket(c.req.header('CF-Connecting-IP'), c.req.header('CF-Worker'));
  const leaseSize = c.get('config').RATE_LIMIT_LEASE;
  if (await withinRateLimit(limiter, bucket, { leaseSize, periodSeconds: CLIENT_BUDGET_PERIOD_SECONDS })) return true;
  refused.add(c.req.raw);
  noteRefusal(c.get('log'), bucket, Date.now());
  return false;
}

/**
 * The bucket of an address: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber
 * usually holds a whole /64, so single addresses would give them billions of budgets). On the
 * shared Workers address, the calling Worker's zone (`CF-Worker`); from any other address that
 * header is the caller's own word and is ignored.
 */
export function clientBucket(address: string | undefined, worker?: string): string {
  const trimmed = address?.trim().toLowerCase() ?? '';
  if (trimmed === '') return NO_ADDRESS;
  const zone = worker?.trim().toLowerCase();
  if (zone && trimmed === WORKERS_EGRESS_ADDRESS) return `worker:${zone.slice(0, 253)}`;
  if (!trimmed.includes(':')) return trimmed.slice(0, 64);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(trimmed)?.[1];
  if (mapped) return mapped;
  return ipv6Prefix64(trimmed) ?? trimmed.slice(0, 64);
}

function ipv6Prefix64(address: string): string | null {
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  // An embedded IPv4 address (the last group) stands for two groups.
  const width = (groups: string[]) => groups.length + (groups.at(-1)?.includes('.') ? 1 : 0);
  const groups =
    halves.length === 2 ? [...head, ...Array(Math.max(0, 8 - width(head) - width(tail))).fill('0'), ...tail] : head;
  const prefix = groups.slice(0, 4);
  if (prefix.length < 4 || !prefix.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
  return `${prefix.map((group) => Number.parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/**
 * Refused requests are counted, not audited: one log line per address per minute per isolate,
 * carrying how many were refused since the previous line.
 */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
const MAX_TRACKED_ADDRESSES = 10_000;
const refusals = new Map<string, { loggedAt: number; unlogged: number }>();

function noteRefusal(log: Logger, bucket: string, now: number): void {
  const entry = refusals.get(bucket) ?? { loggedAt: Number.NEGATIVE_INFINITY, unlogged: 0 };
  entry.unlogged += 1;
  if (now - entry.loggedAt >= REFUSAL_LOG_INTERVAL_MS) {
    log.warn('client_budget.refused', {
      address: bucket,
      refused: entry.unlogged,
      hint: 'Requests from this address passed the per-address key-check budget: answered 429, not audited.',
    });
    entry.loggedAt = now;
    entry.unlogged = 0;
  }
  refusals.set(bucket, entry);
  if (refusals.size > MAX_TRACKED_ADDRESSES) {
    // Bounded memory under many addresses: forget those logged over a minute ago (their next
    // refusal logs at once).
    for (const [address, seen] of refusals) {
      if (now - seen.loggedAt >= REFUSAL_LOG_INTERVAL_MS) refusals.delete(address);
    }
    if (refusals.size > MAX_TRACKED_ADDRESSES) refusals.clear();
  }
}
