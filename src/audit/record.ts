import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { refusedByClientBudget, requireClientBudget } from '../http/client-budget.ts';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { type AuditEvent, insertAuditEvents } from './audit-event.ts';

const ACTIONS: Record<string, string> = {
  '/v1/verify': 'verify',
  '/v1/github-token': 'github_token',
  '/v1/sessions/exchange': 'session_exchange',
  '/v1/sessions/revoke': 'session_revoke',
};

/** The endpoint the request was routed to (middleware is registered for ALL methods; endpoints are not). */
function endpointRoute(c: Context<AppEnv>): { method: string; path: string } | undefined {
  return matchedRoutes(c).findLast((route) => route.method !== 'ALL');
}

/**
 * The row's action, from the matched route pattern and never from the request's own path: Hono
 * decodes the path, so `%0A` or `%1B` would put control characters (forged report lines, terminal
 * escapes) into the audit log. Admin routes read `admin:PATCH services/:id`; a path no route
 * matches is `other:<METHOD>`, without its text.
 */
function actionOf(c: Context<AppEnv>): string {
  const route = endpointRoute(c);
  if (!route) return `other:${/^[A-Z]{1,10}$/.test(c.req.method) ? c.req.method : 'OTHER'}`;
  const known = ACTIONS[route.path];
  if (known) return known;
  if (route.path.startsWith('/v1/admin/')) return `admin:${route.method} ${route.path.slice('/v1/admin/'.length)}`;
  return `other:${route.method} ${route.path}`;
}

/**
 * Leaves exactly one audit row per service call, allowed or refused, whatever refused it (a bad
 * key, a missing scope, the rate limit, a bad body), except a call the per-address budget refused:
 * that one caused no database work, and writing its row would be some (it is counted in a log line
 * instead, src/http/client-budget.ts). The row is sent to the audit queue after the response (no
 * round trip on the response path); without a queue (some local setups) it is written directly,
 * still after the response.
 */
export function auditServiceCalls(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = new Date().toISOString();
    // A path no route serves never reaches a key check, so its row draws from the budget here.
    if (!endpointRoute(c)) await requireClientBudget(c);
    try {
      await next();
    } finally {
      if (!refusedByClientBudget(c)) record(c, at);
    }
  };
}

/** Queues (or writes) the call's one audit row. */
function record(c: Context<AppEnv>, at: string): void {
  const facts = c.var.audit;
  const error = c.error;
  const code =
    error instanceof ApiError
      ? error.code
      : error
        ? isDatabaseUnavailable(error)
          ? 'database_unavailable'
          : 'internal_error'
        : (facts.code ?? 'ok');
  const event: AuditEvent = {
    id: crypto.randomUUID(),
    at,
    serviceId: c.var.service?.id ?? facts.serviceId ?? null,
    userId: facts.userId ?? null,
    action: actionOf(c),
    success: code === 'ok' && c.res.status < 400,
    code,
    requestId: c.var.requestId,
    ipAddress: c.req.header('CF-Connecting-IP') ?? null,
    userAgent: c.req.header('User-Agent') ?? null,
  };
  const queue = c.env.AUDIT_QUEUE;
  c.var.background(queue ? queue.send(event) : insertAuditEvents(c.var.database(), [event]));
}
