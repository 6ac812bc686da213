import { Hono } from 'hono';
import { probeDatabase } from '../db/probe.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { AppEnv } from '../http/context.ts';
import { serve } from './declared-router.ts';
import { healthRoute, livenessRoute } from './health.routes.ts';

/** A load balancer or operator must get an answer quickly even when the database hangs. */
export const HEALTH_PROBE_TIMEOUT_MS = 3_000;

export const healthRoutes = new Hono<AppEnv>();

// Liveness: the Worker answers, nothing else is touched (and the benchmark's ceiling).
serve(healthRoutes, livenessRoute, (c) => {
  c.header('Cache-Control', 'no-store');
  return c.json({ status: 'ok' } as const, 200);
});

serve(healthRoutes, healthRoute, async (c) => {
  c.header('Cache-Control', 'no-store');
  const probe = await probeDatabase(c.var.database(), HEALTH_PROBE_TIMEOUT_MS);
  if (!probe.reachable) {
    c.var.log.warn('health.database_unavailable', { reason: probe.reason });
    throw new GatewayError(
      'database_unavailable',
      'unavailable',
      probe.reason === 'timeout'
        ? `The database did not answer within ${HEALTH_PROBE_TIMEOUT_MS} ms.`
        : 'The database cannot be reached.',
      { headers: { 'Retry-After': '5', 'Cache-Control': 'no-store' } },
    );
  }
  return c.json({ status: 'ok', database: { reachable: true, roundTripMs: probe.roundTripMs } } as const, 200);
});
