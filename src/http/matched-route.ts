import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';

/** A route as the route table names it: `POST /v1/verify`, `PATCH /v1/admin/services/:id`. */
export function routeKey(method: string, routingPath: string): string {
  return `${method.toUpperCase()} ${routingPath}`;
}

/**
 * The endpoint the request was routed to, by its declared pattern (never the request's own path).
 * Middleware is registered for ALL methods; endpoints are not.
 */
export function endpointRoute(c: Context): { method: string; path: string } | undefined {
  return matchedRoutes(c).findLast((route) => route.method !== 'ALL');
}
