import type { RouteConfig } from '@hono/zod-openapi';
import { routeKey } from '../http/matched-route.ts';
import {
  allowByRuleRoute,
  auditRoute,
  deleteServiceRoute,
  listAdmissionRulesRoute,
  listPeopleRoute,
  listServicesRoute,
  registerServiceRoute,
  removeRuleRoute,
  rotateKeyRoute,
  updateServiceRoute,
  whitelistRoute,
} from './admin.routes.ts';
import {
  clearEventsRoute,
  eventDeliveriesRoute,
  rotateEventsSecretRoute,
  setEventsRoute,
} from './admin-events.routes.ts';
import { ASSET_ROUTES } from './assets.routes.ts';
import { routingPath } from './declared-router.ts';
import { healthRoute, livenessRoute } from './health.routes.ts';
import { jwksRoute } from './jwks.routes.ts';
import { openApiDocumentRoute } from './openapi.routes.ts';
import { assertionRoute, exchangeRoute, revokeRoute } from './sessions.routes.ts';
import { PAGE_ROUTES } from './sign-in.routes.ts';
import { githubTokenRoute, verifyRoute } from './verify.routes.ts';

/**
 * Every route the gateway serves, from the declarations: what the audit log, the error handler
 * and the tests need to know about routes comes from here, never from a list of paths.
 */

/** A route by method and routing pattern (`/v1/admin/services/:id`). */
export interface RouteEntry {
  method: string;
  path: string;
}

/** The JSON contract: every operation of /openapi.json, the document made of exactly these. */
export const API_ROUTES: readonly RouteConfig[] = [
  livenessRoute,
  healthRoute,
  openApiDocumentRoute,
  exchangeRoute,
  revokeRoute,
  assertionRoute,
  jwksRoute,
  verifyRoute,
  githubTokenRoute,
  listServicesRoute,
  registerServiceRoute,
  updateServiceRoute,
  deleteServiceRoute,
  rotateKeyRoute,
  setEventsRoute,
  clearEventsRoute,
  rotateEventsSecretRoute,
  eventDeliveriesRoute,
  listPeopleRoute,
  whitelistRoute,
  listAdmissionRulesRoute,
  allowByRuleRoute,
  removeRuleRoute,
  auditRoute,
];

/** The pages a person's browser visits: their errors are HTML. */
export const PAGES: readonly RouteEntry[] = Object.values(PAGE_ROUTES);

/** Every route, as Hono routes it. */
export const ALL_ROUTES: readonly RouteEntry[] = [
  ...API_ROUTES.map((route) => ({ method: route.method, path: routingPath(route.path) })),
  ...PAGES,
  ...Object.values(ASSET_ROUTES),
];

/** The audit action of each /v1 operation (its `x-audit-action`), by `routeKey`. */
export const AUDIT_ACTIONS: ReadonlyMap<string, string> = new Map(
  API_ROUTES.flatMap((route) => {
    const action: unknown = route['x-audit-action'];
    return typeof action === 'string' ? [[routeKey(route.method, routingPath(route.path)), action] as const] : [];
  }),
);
