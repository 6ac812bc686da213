import type { MiddlewareHandler } from 'hono';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { type AuditEvent, insertAuditEvents } from './audit-event.ts';

const ACTIONS: Record<string, string> = {
  '/v1/verify': 'verify',
  '/v1/github-token': 'github_token',
  '/v1/sessions/exchange': 'session_exchange',
  '/v1/sessions/revoke': 'session_revoke',
};

function actionOf(method: string, path: string): string {
  const known = ACTIONS[path];
  if (known) return known;
  if (path.startsWith('/v1/admin/')) return `admin:${method} ${path.slice('/v1/admin/'.length, 100)}`;
  return `other:${method} ${path.slice(0, 100)}`;
}

/**
 * Leaves exactly one audit row per service call, allowed or refused, whatever refused it (a bad
 * key, a missing scope, the rate limit, a bad body). The row is sent to the audit queue after
 * the response (no round trip on the response path); without a queue (some local setups) it is
 * written directly, still after the response.
 */
export function auditServiceCalls(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const at = new Date().toISOString();
    try {
      await next();
    } finally {
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
        action: actionOf(c.req.method, c.req.path),
        success: code === 'ok' && c.res.status < 400,
        code,
        requestId: c.var.requestId,
        ipAddress: c.req.header('CF-Connecting-IP') ?? null,
        userAgent: c.req.header('User-Agent') ?? null,
      };
      const queue = c.env.AUDIT_QUEUE;
      c.var.background(queue ? queue.send(event) : insertAuditEvents(c.var.database(), [event]));
    }
  };
}
