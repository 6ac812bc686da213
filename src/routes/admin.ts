import { Hono } from 'hono';
import { membershipBounds } from '../admission/bounds.ts';
import { allowByRule, listRules, removeRule } from '../admission/manage-rules.ts';
import { parseRuleTarget } from '../admission/rule.ts';
import { ruleJson } from '../admission/rule-json.ts';
import { auditEntryJson } from '../audit/entry-json.ts';
import { queryAudit } from '../audit/query.ts';
import { adminCallOrigin } from '../changes/http-origin.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { deliverAfterResponse } from '../events/start-delivery.ts';
import type { AppEnv } from '../http/context.ts';
import { forgetVerifiedKeys, requireService } from '../http/service-auth.ts';
import {
  deleteService,
  editServiceAccess,
  listServices,
  RotationInProgressError,
  renameService,
  rotateServiceKey,
  type ServiceSummary,
  setServiceActive,
  updateServiceAccess,
} from '../services/admin.ts';
import { registerService, ServiceInputError } from '../services/register-service.ts';
import { serviceJson } from '../services/service-json.ts';
import { listPeople } from '../users/list-people.ts';
import { personJson } from '../users/person-json.ts';
import { setWhitelisted } from '../users/whitelist.ts';
import {
  ADMIN_SCOPE,
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
import { serveEventsRoutes } from './admin-events.ts';
import { serve } from './declared-router.ts';

/** A service id from the path. One Postgres could not store (it contains NUL) names no service. */
function serviceIdFrom(id: string): string {
  if (id.includes('\u0000'))
    throw new GatewayError(
      'unknown_service',
      'not_found',
      'There is no such service; `npx gateway services list` shows them.',
    );
  return id;
}

/** A refused rotation says how to force it, in the API's words (the command says `--force`). */
function withForceHint(error: unknown): never {
  if (error instanceof RotationInProgressError) error.message += ' Send "force": true to rotate anyway and end it now.';
  throw error;
}

/** The operator commands as an API, for services holding the `admin` scope (docs/api.md). */
export const adminRoutes = new Hono<AppEnv>();

// The whole prefix, so that no admin route can be added without the scope check.
adminRoutes.use('/v1/admin/*', requireService(ADMIN_SCOPE));

serve(adminRoutes, listServicesRoute, async (c) =>
  c.json({ services: (await listServices(c.var.database())).map(serviceJson) }, 200),
);

serve(adminRoutes, registerServiceRoute, async (c) => {
  const body = c.req.valid('json');
  const created = await registerService(
    c.var.database(),
    {
      identifier: body.id,
      displayName: body.name,
      scopes: body.scopes,
      redirectUris: body.redirect_uris,
    },
    adminCallOrigin(c),
  );
  return c.json({ id: created.identifier, key: created.key }, 201);
});

serve(adminRoutes, updateServiceRoute, async (c) => {
  const body = c.req.valid('json');
  const db = c.var.database();
  const id = serviceIdFrom(c.req.valid('param').id);
  const origin = adminCallOrigin(c);
  const edits = {
    addScopes: body.add_scopes ?? [],
    removeScopes: body.remove_scopes ?? [],
    addRedirectUris: body.add_redirect_uris ?? [],
    removeRedirectUris: body.remove_redirect_uris ?? [],
  };
  if (
    (body.scopes && (body.add_scopes || body.remove_scopes)) ||
    (body.redirect_uris && (body.add_redirect_uris || body.remove_redirect_uris))
  )
    throw new ServiceInputError(
      'A list is either replaced (scopes, redirect_uris) or edited (add_*, remove_*), not both.',
    );
  let service: ServiceSummary | undefined;
  if (body.name !== undefined) service = await renameService(db, id, body.name, origin);
  if (Object.values(edits).some((list) => list.length > 0))
    service = (await editServiceAccess(db, id, edits, origin)).service;
  if (body.scopes || body.redirect_uris) {
    service = await updateServiceAccess(
      db,
      id,
      {
        ...(body.scopes ? { scopes: body.scopes } : {}),
        ...(body.redirect_uris ? { redirectUris: body.redirect_uris } : {}),
      },
      origin,
    );
  }
  if (body.active !== undefined) service = await setServiceActive(db, id, body.active, origin);
  // A deactivated key is refused here at once (other instances within VERIFY_CACHE_SECONDS).
  if (body.active === false && service) forgetVerifiedKeys(service.id);
  if (!service)
    throw new GatewayError(
      'invalid_body',
      'input',
      'Give name, scopes, redirect_uris, add_scopes, remove_scopes, add_redirect_uris, remove_redirect_uris or active.',
    );
  return c.json(serviceJson(service), 200);
});

serve(adminRoutes, deleteServiceRoute, async (c) => {
  const deleted = await deleteService(c.var.database(), serviceIdFrom(c.req.valid('param').id), adminCallOrigin(c));
  forgetVerifiedKeys(deleted.id);
  return c.json({ ...serviceJson(deleted), deleted_at: deleted.deletedAt.toISOString() }, 200);
});

serve(adminRoutes, rotateKeyRoute, async (c) => {
  const body = c.req.valid('json');
  const rotated = await rotateServiceKey(
    c.var.database(),
    serviceIdFrom(c.req.valid('param').id),
    body.grace_seconds,
    new Date(),
    { force: body.force, origin: adminCallOrigin(c) },
  ).catch(withForceHint);
  // The old key (if its grace is 0) is refused here at once; elsewhere within VERIFY_CACHE_SECONDS.
  forgetVerifiedKeys(rotated.serviceId);
  return c.json(
    { key: rotated.key, previous_key_expires_at: rotated.previousKeyExpiresAt?.toISOString() ?? null },
    200,
  );
});

serveEventsRoutes(adminRoutes, serviceIdFrom);

serve(adminRoutes, whitelistRoute, async (c) => {
  const body = c.req.valid('json');
  const person = body.login ? { login: body.login } : { githubId: body.github_id ?? '' };
  const changed = await setWhitelisted(
    c.var.database(),
    person,
    body.allowed,
    adminCallOrigin(c),
    membershipBounds(c.var.config),
  );
  if (!changed)
    throw new GatewayError(
      'unknown_user',
      'not_found',
      'No such person has signed in yet; they must sign in once first.',
    );
  c.var.audit.userId = changed.id;
  deliverAfterResponse(c, changed.eventIds);
  return c.json(
    {
      id: changed.id,
      github_id: changed.githubUserId,
      login: changed.githubLogin,
      whitelisted: changed.isWhitelisted,
    },
    200,
  );
});

serve(adminRoutes, listPeopleRoute, async (c) => {
  const f = c.req.valid('query');
  const page = await listPeople(
    c.var.database(),
    { pending: f.pending === 'true', limit: f.limit, ...(f.cursor ? { cursor: f.cursor } : {}) },
    membershipBounds(c.var.config),
  );
  return c.json({ people: page.people.map(personJson), next_cursor: page.nextCursor }, 200);
});

serve(adminRoutes, listAdmissionRulesRoute, async (c) =>
  c.json({ rules: (await listRules(c.var.database())).map(ruleJson) }, 200),
);

serve(adminRoutes, allowByRuleRoute, async (c) => {
  const target = parseRuleTarget(c.req.valid('json'));
  // GitHub's public lookups need no token: only where its API is.
  const github = { apiUrl: c.var.config.GITHUB_API_URL, oauthUrl: c.var.config.GITHUB_OAUTH_URL };
  const { rule, made } = await allowByRule({ db: c.var.database(), github }, target, adminCallOrigin(c));
  return made ? c.json({ rule: ruleJson(rule), made }, 201) : c.json({ rule: ruleJson(rule), made }, 200);
});

serve(adminRoutes, removeRuleRoute, async (c) => {
  const rule = await removeRule(c.var.database(), { id: c.req.valid('param').id }, adminCallOrigin(c));
  return c.json({ rule: ruleJson(rule) }, 200);
});

serve(adminRoutes, auditRoute, async (c) => {
  const f = c.req.valid('query');
  const page = await queryAudit(c.var.database(), {
    limit: f.limit,
    ...(f.kind ? { kinds: [f.kind] } : {}),
    ...(f.service ? { service: f.service } : {}),
    ...(f.user_id ? { userId: f.user_id } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.success ? { success: f.success === 'true' } : {}),
    ...(f.since ? { since: new Date(f.since) } : {}),
    ...(f.until ? { until: new Date(f.until) } : {}),
    ...(f.cursor ? { cursor: f.cursor } : {}),
  });
  return c.json(
    {
      entries: page.entries.map(auditEntryJson),
      next_cursor: page.nextCursor,
    },
    200,
  );
});
