import type { Context, MiddlewareHandler } from 'hono';
import { AUDIT_IP_ADDRESS_CHARS, AUDIT_USER_AGENT_CHARS } from '../db/audit-logs.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { refusedByClientBudget, requireClientBudget } from '../http/client-budget.ts';
import type { AppEnv } from '../http/context.ts';
import { endpointRoute, routeKey } from '../http/matched-route.ts';
import { type AuditEvent, insertAuditEvents } from './audit-event.ts';
import { AuditBatcher } from './batch.ts';

// One per isolate: the attempts of every request it serves travel to the queue together.
const batcher = new AuditBatcher();

/** The action name of each route, by `routeKey` (`PATCH /v1/admin/services/:id`): the route table's. */
export type AuditActions = ReadonlyMap<string, string>;

/**
 * The row's action, from the matched route pattern and never from the request's own path: Hono
 * decodes the path, so `%0A` or `%1B` would put control characters (forged report lines, terminal
 * escapes) into the audit log. A route names its action in its declaration (`x-audit-action`:
 * `verify`, `admin:PATCH services/:id`); a path no route matches is `other:<METHOD>`, without its text.
 */
function actionOf(c: Context<AppEnv>, actions: AuditActions): string {
  const route = endpointRoute(c);
  if (!route) return `other:${/^[A-Z]{1,10}$/.test(c.req.method) ? c.req.method : 'OTHER'}`;
  return actions.get(routeKey(route.method, route.path)) ?? `other:${route.method} ${route.path}`;
}

/**
 * Leaves exactly one audit row per service call, allowed or refused, whatever refused it (a bad
 * key, a missing scope, the rate limit, a bad body), except a call the per-address budget refused:
 * that one caused no database work, and writing its row would be some (it is counted in a log line
 * instead, src/http/client-budget.ts). The row goes to the audit queue after the response (no
 * round trip on the response path), in a batch with the isolate's other attempts of the same few
 * milliseconds (src/audit/batch.ts); without a queue (some local setups) the batch is written
 * directly, still after the response.
 */
export function auditServiceCalls(actions: AuditActions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = new Date().toISOString();
    // A path no route serves never reaches a key check, so its row draws from the budget here.
    if (!endpointRoute(c)) await requireClientBudget(c);
    try {
      await next();
    } finally {
      if (!refusedByClientBudget(c)) record(c, at, actionOf(c, actions));
    }
  };
}

/** Queues (or writes) the call's one audit row, in the isolate's current batch. */
function record(c: Context<AppEnv>, at: string, action: string): void {
  const facts = c.get('audit');
  const error = c.error;
  const code =
    error instanceof GatewayError
      ? error.code
      : error
        ? isDatabaseUnavailable(error)
          ? 'database_unavailable'
          : 'internal_error'
        : (facts.code ?? (c.res.status >= 400 ? codeOfStatus(c.res.status) : 'ok'));
  const event: AuditEvent = {
    id: crypto.randomUUID(),
    at,
    serviceId: c.get('service')?.id ?? facts.serviceId ?? null,
    userId: facts.userId ?? null,
    action,
    success: code === 'ok' && c.res.status < 400,
    code,
    requestId: c.get('requestId'),
    // Cut to what the row keeps before queueing: a long header would only make smaller batches.
    ipAddress: c.req.header('CF-Connecting-IP')?.slice(0, AUDIT_IP_ADDRESS_CHARS) ?? null,
    userAgent: c.req.header('User-Agent')?.slice(0, AUDIT_USER_AGENT_CHARS) ?? null,
  };
  c.get('background')(
    batcher.add(event, {
      queue: c.env.AUDIT_QUEUE,
      writeDirectly: (events) => insertAuditEvents(c.get('database')(), events),
      log: c.get('log'),
    }),
  );
}

/**
 * The code of a refusal no handler named: the answers Hono gives itself (a path no route serves,
 * a method a route does not take) carry no error to read the code from.
 */
function codeOfStatus(status: number): string {
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  return `http_${status}`;
}
