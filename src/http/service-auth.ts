import type { Context, MiddlewareHandler } from 'hono';
import { TtlCache } from '../cache/ttl-cache.ts';
import { serviceKeyId } from '../crypto/service-keys.ts';
import { type LookupReads, primaryReads } from '../db/lookup-reads.ts';
import { type RowToReadAlong, touchServiceLastUsed } from '../db/services.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import {
  type AuthenticatedService,
  authenticateService,
  type ServiceAuthFailure,
} from '../services/authenticate-service.ts';
import type { KNOWN_SCOPES } from '../services/register-service.ts';
import { requireClientBudget } from './client-budget.ts';
import type { AppEnv } from './context.ts';
import { withinRateLimit } from './rate-limit-lease.ts';

/** What a service may be allowed to do; a route needs one of these, or only a valid key. */
export type Scope = (typeof KNOWN_SCOPES)[number];

const MESSAGES: Record<ServiceAuthFailure, { code: string; message: string }> = {
  missing_key: { code: 'missing_key', message: 'Send your service key as `Authorization: Bearer <key>`.' },
  malformed_key: {
    code: 'malformed_key',
    message:
      'That is not a gateway key (gwk_...). A key the old system issued also needs the `X-Gateway-Service` header.',
  },
  // Unknown and wrong keys answer alike: a caller learns nothing about which key ids exist.
  unknown_key: { code: 'invalid_key', message: 'The service key is not valid.' },
  invalid_key: { code: 'invalid_key', message: 'The service key is not valid.' },
  inactive_service: { code: 'inactive_service', message: 'This service is deactivated; ask the gateway operator.' },
};

/** Verified keys, by what was presented: one PBKDF2 per key per isolate per cache period. */
const verifiedKeys = new TtlCache<AuthenticatedService>();
/** Forgets this isolate's verified keys of a service: its rotation or deletion made here is seen here at once. */
export const forgetVerifiedKeys = (serviceId: string) =>
  verifiedKeys.deleteWhere((service) => service.id === serviceId);
/** When this isolate last recorded each service's last_used_at. */
const lastTouched = new Map<string, number>();
const LAST_USED_RESOLUTION_MS = 60_000;
const RATE_LIMIT_PERIOD_SECONDS = 60;

export interface ServiceAccessOptions {
  /** The key lookup may be answered by the read replica (`staleReads`). */
  staleReads?: boolean;
  /**
   * A row to read in the same query as a key this isolate has not cached (the verify route's:
   * the session or person its body names, so its cold verify is one round trip); the row lands
   * in the context's `readAlong`.
   */
  readAlong?: (c: Context<AppEnv>, lookup: LookupReads) => Promise<RowToReadAlong | null>;
}

/**
 * Authenticates the calling service (401 when it cannot; 429 when a key check would pass the
 * caller's address's budget), applies its rate limit (429) and, if given, requires a scope (403).
 * With `staleReads`, the key lookup may be answered by the read replica (only the verify route:
 * everywhere else a deactivated or rotated key is read from the primary, and so seen within the
 * key cache's bound, VERIFY_CACHE_SECONDS).
 */
export function requireService(scope?: Scope, options: ServiceAccessOptions = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const service = await authenticatedService(c, options);
    c.set('service', service);
    const limiter = c.env.SERVICE_RATE_LIMIT;
    const leaseSize = c.get('config').RATE_LIMIT_LEASE;
    if (
      limiter &&
      !(await withinRateLimit(limiter, service.id, { leaseSize, periodSeconds: RATE_LIMIT_PERIOD_SECONDS }))
    ) {
      throw new GatewayError(
        'rate_limited',
        'rate_limited',
        'Too many requests from this service; retry after the period in Retry-After.',
        { headers: { 'Retry-After': String(RATE_LIMIT_PERIOD_SECONDS) } },
      );
    }
    if (scope && !service.scopes.includes(scope)) {
      throw new GatewayError(
        'insufficient_scope',
        'forbidden',
        `This service lacks the "${scope}" scope; ask the gateway operator.`,
      );
    }
    touchLastUsed(c, service.id);
    await next();
  };
}

async function authenticatedService(c: Context<AppEnv>, options: ServiceAccessOptions): Promise<AuthenticatedService> {
  const lookup = options.staleReads ? c.get('staleReads') : primaryReads(c.get('database'));
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('Authorization') ?? '')?.[1] ?? null;
  const serviceIdentifier = c.req.header('X-Gateway-Service') ?? null;
  // The presented key itself is the cache key: it is already in this request's memory, and a
  // digest per request would cost more than the lookup it saves.
  // With the cache off (0) nothing is read from it, not even what a call under another setting left.
  // What a replica confirmed is cached apart from what the primary did.
  const cacheKey =
    bearer && c.get('config').VERIFY_CACHE_SECONDS > 0
      ? `${lookup.viaReplica ? 'replica' : 'primary'}\n${bearer}\n${serviceIdentifier ?? ''}`
      : null;
  const cached = cacheKey ? verifiedKeys.get(cacheKey) : undefined;
  if (cached) return cached;

  // Every check that misses the cache, right or wrong, takes a slot of the caller's address's
  // budget before any lookup or hash: a real service needs one per key per isolate per cache
  // period, someone guessing keys one per guess, and the guesses spend only their own budget.
  await requireClientBudget(c);
  // Only a `gwk_` key's lookup (by its key id) can read a row along: no other waits on the body.
  const readAlong = options.readAlong && bearer && serviceKeyId(bearer) ? await options.readAlong(c, lookup) : null;
  const result = await authenticateService(c.get('database')(), { key: bearer, serviceIdentifier }, new Date(), {
    lookup,
    background: c.get('background'),
    readAlong,
  });
  if (!result.ok) {
    c.get('audit').serviceId = result.serviceId;
    const { code, message } = MESSAGES[result.code];
    throw new GatewayError(code, 'unauthorized', message, {
      headers: { 'WWW-Authenticate': 'Bearer realm="gateway"' },
    });
  }
  // One key derivation (PBKDF2, or bcrypt for an old-system key) happened: the benchmark counts these.
  c.get('log').debug('service_key.verified', { serviceId: result.service.id });
  if (cacheKey) verifiedKeys.set(cacheKey, result.service, c.get('config').VERIFY_CACHE_SECONDS * 1000);
  if (result.readAlong) c.set('readAlong', { reads: lookup, ...result.readAlong });
  return result.service;
}

/** last_used_at to within a minute, written after the response and at most once a minute per isolate. */
function touchLastUsed(c: Context<AppEnv>, serviceId: string): void {
  const now = Date.now();
  if (now - (lastTouched.get(serviceId) ?? 0) < LAST_USED_RESOLUTION_MS) return;
  lastTouched.set(serviceId, now);
  c.get('background')(touchServiceLastUsed(c.get('database')(), serviceId, new Date(now)));
}

/**
 * The service `requireService` authenticated for this request. Only handlers behind it call this;
 * reaching it without one is a wiring bug, answered as one (500), never as some other service.
 */
export function callingService(c: Context<AppEnv>): AuthenticatedService {
  const service = c.get('service');
  if (!service) throw new Error('callingService() on a route without requireService()');
  return service;
}
