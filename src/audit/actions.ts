/**
 * The actions an audit row records for a route: each route's declaration names its own from this
 * list (`x-audit-action`, type-checked), and a path no route serves is `other:<METHOD>`. The list
 * lives with the audit log, not the routes, so what reads the log (audit queries, the operator
 * commands) knows its vocabulary without importing the routes.
 */
export const ROUTE_AUDIT_ACTIONS = [
  'verify',
  'github_token',
  'session_exchange',
  'session_revoke',
  'session_assertion',
  'admin:GET services',
  'admin:POST services',
  'admin:PATCH services/:id',
  'admin:DELETE services/:id',
  'admin:POST services/:id/rotate-key',
  'admin:PUT services/:id/events',
  'admin:DELETE services/:id/events',
  'admin:POST services/:id/events/rotate-secret',
  'admin:GET services/:id/events/deliveries',
  'admin:GET users',
  'admin:POST users/whitelist',
  'admin:GET admission-rules',
  'admin:POST admission-rules',
  'admin:DELETE admission-rules/:id',
  'admin:GET audit',
] as const;

export type RouteAuditAction = (typeof ROUTE_AUDIT_ACTIONS)[number];

/** Whether rows can carry this action: one a route records, or `other:` for a path no route serves. */
export function isRecordedAction(action: string): boolean {
  return action.startsWith('other:') || (ROUTE_AUDIT_ACTIONS as readonly string[]).includes(action);
}
