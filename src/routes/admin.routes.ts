import * as z from 'zod';
import { RULE_KINDS } from '../admission/rule.ts';
import { AUDIT_KINDS } from '../changes/actions.ts';
import type { Scope } from '../http/service-auth.ts';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../services/admin.ts';
import { MAX_PEOPLE_PAGE } from '../users/list-people.ts';
import { GITHUB_ID_PATTERN, GITHUB_LOGIN_PATTERN } from '../validation/github-identity.ts';
import { decimalInteger, timestamp } from '../validation/operator-input.ts';
import { BODY_CODES, errorResponse, json, jsonRequest, person, serviceErrors, serviceKeySecurity } from './contract.ts';
import { declareRoute } from './declared-router.ts';

/**
 * The operator commands as an API (docs/api.md, "Admin API"). The admin router requires the
 * `admin` scope for the whole /v1/admin prefix (a path no route serves included), so these
 * declarations carry the scope for the document only.
 */
export const ADMIN_SCOPE = 'admin' satisfies Scope;
export const tags = ['admin'];
export const security = serviceKeySecurity(ADMIN_SCOPE);

export const newService = z.object({
  id: z.string().max(100),
  name: z.string().max(200),
  scopes: z.array(z.string().max(50)).max(10).default(['users:verify']),
  redirect_uris: z.array(z.string().max(2048)).max(20).default([]),
});

const scopeList = z.array(z.string().max(50)).max(10);
const redirectUriList = z.array(z.string().max(2048)).max(20);

export const serviceChange = z.object({
  name: z.string().max(200).optional().meta({ description: 'The name people see; the id stays.' }),
  scopes: scopeList.optional().meta({ description: 'Replaces the whole list.' }),
  redirect_uris: redirectUriList.optional().meta({ description: 'Replaces the whole list.' }),
  add_scopes: scopeList.optional().meta({ description: 'Added to the list (one already there is left as is).' }),
  remove_scopes: scopeList.optional().meta({ description: 'Taken off the list (one not there is ignored).' }),
  add_redirect_uris: redirectUriList.optional(),
  remove_redirect_uris: redirectUriList.optional(),
  active: z.boolean().optional(),
});

export const rotation = z.object({
  /** A JSON integer: a string, a fraction or a negative number is refused, never rounded or read as 0. */
  grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(DEFAULT_GRACE_SECONDS),
  /** Rotate even during an earlier rotation's grace period, ending that older key now. */
  force: z.boolean().default(false),
});

export const whitelistChange = z
  .object({
    login: z.string().regex(GITHUB_LOGIN_PATTERN).optional(),
    github_id: z.string().regex(GITHUB_ID_PATTERN).optional(),
    allowed: z.boolean(),
  })
  .refine((body) => (body.login === undefined) !== (body.github_id === undefined), {
    error: 'give exactly one of login or github_id',
  });

export const newAdmissionRule = z
  .object({
    org: z
      .string()
      .regex(GITHUB_LOGIN_PATTERN)
      .optional()
      .meta({ description: 'Admit the members of this GitHub organization (its login).' }),
    team: z.string().max(140).optional().meta({ description: 'Admit the members of this team, as `org/team-slug`.' }),
    login: z
      .string()
      .regex(GITHUB_LOGIN_PATTERN)
      .optional()
      .meta({ description: 'Admit this one person, resolved now to their GitHub id (a later rename moves nothing).' }),
  })
  .refine((body) => [body.org, body.team, body.login].filter((value) => value !== undefined).length === 1, {
    error: 'give exactly one of org, team or login',
  });

/** Text Postgres can store: it refuses NUL, which would otherwise turn a bad filter into a 500. */
export const storableText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL' });

export const auditFilters = z.object({
  kind: z.enum(AUDIT_KINDS).optional().meta({
    description:
      "access: services' calls; change: changes made through operator commands or this API; sign-in: sign-in outcomes and sign-outs. Every kind when absent.",
  }),
  service: storableText(100).optional(),
  user_id: z.uuid().optional(),
  action: storableText(100).optional(),
  success: z.enum(['true', 'false']).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  limit: decimalInteger(1, 500).default(50),
  cursor: storableText(200).optional(),
});

export const peopleFilters = z.object({
  pending: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'true: only people who signed in and were not admitted, newest sign-in first.' }),
  limit: decimalInteger(1, MAX_PEOPLE_PAGE).default(100),
  cursor: storableText(200).optional(),
});

/** A service's events as every listing shows them (docs/api.md, "Events pushed to your service"). */
export const serviceEvents = z
  .object({
    url: z.string(),
    failing_since: z
      .string()
      .nullable()
      .meta({ description: 'The first failed attempt since the last successful delivery; null while they succeed.' }),
    undelivered: z.number().int().meta({ description: 'Its events neither delivered nor given up.' }),
  })
  .nullable()
  .meta({ id: 'ServiceEvents', description: 'Where its events go; null: it gets none.' });

/** A service by its id in the path. */
export const serviceIdParams = z.object({
  id: z.string().meta({ description: 'The service id (`npx gateway services list` shows them).' }),
});

const service = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    redirect_uris: z.array(z.string()),
    active: z.boolean(),
    legacy_key: z.boolean(),
    previous_key_expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    created_at: z.string(),
    events: serviceEvents,
  })
  .meta({ id: 'Service' });

const auditEntry = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.enum(AUDIT_KINDS),
    service: z
      .string()
      .nullable()
      .meta({ description: 'access: the calling service; change and sign-in: the service concerned.' }),
    user_id: z.string().nullable().meta({ description: 'The person concerned.' }),
    user_login: z
      .string()
      .nullable()
      .meta({ description: "The person's GitHub login at their last sign-in; null when unknown." }),
    action: z.string(),
    success: z.boolean(),
    code: z.string().nullable(),
    request_id: z.string().nullable(),
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    actor: z
      .union([
        z.object({ kind: z.literal('operator'), name: z.string().nullable() }),
        z.object({ kind: z.literal('service'), service: z.string().nullable() }),
        z.object({ kind: z.literal('person'), user_id: z.string().nullable(), user_login: z.string().nullable() }),
        z.object({ kind: z.literal('gateway') }),
      ])
      .nullable()
      .meta({
        description:
          'Who made a change or signed in or out: an operator (GATEWAY_OPERATOR, else user@host), a service (this API), a person, or the gateway itself (a membership re-check). Null on access entries.',
      }),
    host: z.string().nullable().meta({ description: 'The host an operator command ran on.' }),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: 'What else the change said (scopes, grace period, login); never a secret.' }),
  })
  .meta({ id: 'AuditEntry' });

const liveSessions = z.object({
  service: z.string().nullable().meta({ description: "The service's id; null for the gateway's own landing." }),
  live: z.number().int(),
  latest_expires_at: z.string(),
});

const listedPerson = z
  .object({
    id: z.string(),
    github_id: z.string(),
    login: z.string().nullable().meta({ description: 'The GitHub login at their last sign-in; null when unknown.' }),
    admitted: z.boolean(),
    admitted_by: z
      .union([
        z.object({ kind: z.literal('whitelist') }),
        z.object({
          kind: z.literal('rule'),
          rule_id: z.string(),
          admits: z.string().meta({ description: 'What the rule admits: "members of acme", "alice (GitHub id 7)".' }),
        }),
      ])
      .nullable()
      .meta({
        description:
          'Why they are admitted, as verify decides it: their whitelist flag, or a rule (a login rule naming them, or an org or team rule their last membership check found them in); null when they are not.',
      }),
    refused_code: z
      .enum(['not_whitelisted', 'not_a_member', 'membership_unverified'])
      .nullable()
      .meta({ description: "The check that refuses them (verify's `code`); null when they are admitted." }),
    membership_checked_at: z
      .string()
      .nullable()
      .meta({ description: 'When GitHub last answered their org and team membership check; null when never.' }),
    last_sign_in_at: z
      .string()
      .nullable()
      .meta({ description: 'Their latest sign-in, admitted or not; null when it is not known.' }),
    first_seen_at: z.string(),
    sessions: z.array(liveSessions).meta({ description: 'Live sessions (not revoked, not expired) per service.' }),
  })
  .meta({ id: 'ListedPerson' });

const admissionRule = z
  .object({
    id: z.string(),
    kind: z.enum(RULE_KINDS),
    admits: z.string().meta({ description: 'What the rule admits, in words.' }),
    org: z.string().nullable().meta({ description: "org and team rules: the organization's login." }),
    org_id: z.string().nullable().meta({ description: "org and team rules: the organization's GitHub id." }),
    team: z.string().nullable().meta({ description: "team rules: the team's slug." }),
    github_id: z.string().nullable().meta({ description: "login rules: the person's GitHub id, what is checked." }),
    login: z.string().nullable().meta({ description: 'login rules: their login when the rule was made.' }),
    created_at: z.string(),
    created_by: z.string().meta({ description: 'The operator (GATEWAY_OPERATOR, else user@host) or `service:<id>`.' }),
    removed_at: z.string().nullable(),
    removed_by: z.string().nullable(),
  })
  .meta({ id: 'AdmissionRule' });

/** A rule by its id in the path. */
export const ruleIdParams = z.object({
  id: z.string().meta({ description: 'The rule id (`npx gateway users rules` shows them).' }),
});

export const unknownService = errorResponse(['unknown_service'], 'There is no such service.');

export const listServicesRoute = declareRoute({
  method: 'get',
  path: '/v1/admin/services',
  tags,
  operationId: 'listServices',
  summary: 'List services',
  'x-audit-action': 'admin:GET services',
  security,
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(z.object({ services: z.array(service) }), 'Every service: scopes, return addresses, state, last use.'),
  },
});

export const registerServiceRoute = declareRoute({
  method: 'post',
  path: '/v1/admin/services',
  tags,
  operationId: 'registerService',
  summary: 'Register a service',
  'x-audit-action': 'admin:POST services',
  security,
  request: { body: jsonRequest(newService, 'The new service.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    201: json(z.object({ id: z.string(), key: z.string() }), 'The service and its key, shown this once.'),
    400: errorResponse([...BODY_CODES, 'invalid_service'], 'A bad id, display name, scope or redirect URI.'),
  },
});

export const updateServiceRoute = declareRoute({
  method: 'patch',
  path: '/v1/admin/services/{id}',
  tags,
  operationId: 'updateService',
  summary: 'Rename, change scopes, redirect URIs (whole lists or one at a time) or active',
  'x-audit-action': 'admin:PATCH services/:id',
  security,
  request: { params: serviceIdParams, body: jsonRequest(serviceChange, 'What to change.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(service, 'The service as changed.'),
    400: errorResponse(
      [...BODY_CODES, 'invalid_service'],
      'Nothing to change, a bad name, scope or redirect URI, or a list both replaced and edited.',
    ),
    404: unknownService,
  },
});

export const deleteServiceRoute = declareRoute({
  method: 'delete',
  path: '/v1/admin/services/{id}',
  tags,
  operationId: 'deleteService',
  summary: 'Delete a service (its key never works again; its audit rows stay)',
  'x-audit-action': 'admin:DELETE services/:id',
  security,
  request: { params: serviceIdParams },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(
      service.extend({ deleted_at: z.string() }),
      'The service as it was deleted. Its id stays reserved; the audit log still names it.',
    ),
    404: unknownService,
  },
});

export const rotateKeyRoute = declareRoute({
  method: 'post',
  path: '/v1/admin/services/{id}/rotate-key',
  tags,
  operationId: 'rotateServiceKey',
  summary: 'Rotate the key with a grace period',
  'x-audit-action': 'admin:POST services/:id/rotate-key',
  security,
  request: { params: serviceIdParams, body: jsonRequest(rotation, 'The grace period of the old key.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(
      z.object({ key: z.string(), previous_key_expires_at: z.string().nullable() }),
      'The new key, shown this once, and when the old one stops working.',
    ),
    400: errorResponse(BODY_CODES, `grace_seconds is not a JSON integer from 0 to ${MAX_GRACE_SECONDS}.`),
    404: unknownService,
    409: errorResponse(
      ['rotation_in_progress'],
      'An earlier rotation is still in its grace period; send `"force": true` to end it now.',
    ),
  },
});

export const whitelistRoute = declareRoute({
  method: 'post',
  path: '/v1/admin/users/whitelist',
  tags,
  operationId: 'setWhitelisted',
  summary: 'Whitelist or un-whitelist a person',
  'x-audit-action': 'admin:POST users/whitelist',
  security,
  request: { body: jsonRequest(whitelistChange, 'The person, by login or GitHub id, and whether they may come in.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(person, 'The person as changed.'),
    400: errorResponse(BODY_CODES, 'Not exactly one of login or github_id, or not a valid one.'),
    404: errorResponse(['unknown_user'], 'No such person has signed in yet.'),
    409: errorResponse(['ambiguous_login'], 'More than one person has this login; give the github_id.'),
  },
});

export const listPeopleRoute = declareRoute({
  method: 'get',
  path: '/v1/admin/users',
  tags,
  operationId: 'listPeople',
  summary: 'List the people who signed in, newest sign-in first',
  'x-audit-action': 'admin:GET users',
  security,
  request: { query: peopleFilters },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(
      z.object({ people: z.array(listedPerson), next_cursor: z.string().nullable() }),
      'A page of people, and the cursor of the next page (null on the last).',
    ),
    400: errorResponse(['invalid_query'], 'A filter that is not valid; the message names it.'),
  },
});

export const listAdmissionRulesRoute = declareRoute({
  method: 'get',
  path: '/v1/admin/admission-rules',
  tags,
  operationId: 'listAdmissionRules',
  summary: 'List the live admission rules, oldest first',
  'x-audit-action': 'admin:GET admission-rules',
  security,
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(z.object({ rules: z.array(admissionRule) }), 'Every live rule: what it admits, who made it and when.'),
  },
});

export const allowByRuleRoute = declareRoute({
  method: 'post',
  path: '/v1/admin/admission-rules',
  tags,
  operationId: 'allowByRule',
  summary: 'Admit the members of an organization or team, or one person by login',
  'x-audit-action': 'admin:POST admission-rules',
  security,
  request: {
    body: jsonRequest(newAdmissionRule, 'What to admit: exactly one of org, team or login, looked up on GitHub now.'),
  },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(
      z.object({ rule: admissionRule, made: z.literal(false) }),
      'A live rule already admits this; nothing changed.',
    ),
    201: json(z.object({ rule: admissionRule, made: z.literal(true) }), 'The rule as made.'),
    400: errorResponse(
      [...BODY_CODES, 'invalid_rule', 'not_a_person'],
      'Not exactly one of org, team or login, a team not named `org/team-slug`, or a login that is an organization.',
    ),
    404: errorResponse(['unknown_github_account'], 'GitHub has no such organization or person.'),
    502: errorResponse(
      ['github_unreachable', 'github_error'],
      'GitHub could not be reached, or refused the lookup (its rate limit); try again.',
    ),
  },
});

export const removeRuleRoute = declareRoute({
  method: 'delete',
  path: '/v1/admin/admission-rules/{id}',
  tags,
  operationId: 'removeAdmissionRule',
  summary: 'Remove an admission rule (kept for the record); the whitelist flag is not touched',
  'x-audit-action': 'admin:DELETE admission-rules/:id',
  security,
  request: { params: ruleIdParams },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(z.object({ rule: admissionRule }), 'The rule as removed.'),
    404: errorResponse(['no_such_rule'], 'No live rule has this id.'),
  },
});

export const auditRoute = declareRoute({
  method: 'get',
  path: '/v1/admin/audit',
  tags,
  operationId: 'queryAudit',
  summary: 'Query the audit log, newest first',
  'x-audit-action': 'admin:GET audit',
  security,
  request: { query: auditFilters },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(
      z.object({ entries: z.array(auditEntry), next_cursor: z.string().nullable() }),
      'A page of entries, and the cursor of the next page (null on the last).',
    ),
    400: errorResponse(['invalid_query'], 'A filter that is not valid; the message names it.'),
  },
});
