import { Hono } from 'hono';
import * as z from 'zod';
import { AuditQueryError, queryAudit } from '../audit/query.ts';
import type { AppEnv } from '../http/context.ts';
import { ApiError } from '../http/errors.ts';
import { readJsonBody } from '../http/json-body.ts';
import { requireService } from '../http/service-auth.ts';
import {
  listServices,
  MAX_GRACE_SECONDS,
  RotationInProgressError,
  rotateServiceKey,
  type ServiceSummary,
  setServiceActive,
  UnknownServiceError,
  updateServiceAccess,
} from '../services/admin.ts';
import { registerService, ServiceInputError } from '../services/register-service.ts';
import { AmbiguousLoginError, setWhitelisted } from '../users/whitelist.ts';
import { decimalInteger, timestamp } from '../validation/operator-input.ts';

export const newService = z.object({
  id: z.string().max(100),
  name: z.string().max(200),
  scopes: z.array(z.string().max(50)).max(10).default(['users:verify']),
  redirect_uris: z.array(z.string().max(2048)).max(20).default([]),
});

export const serviceChange = z.object({
  scopes: z.array(z.string().max(50)).max(10).optional(),
  redirect_uris: z.array(z.string().max(2048)).max(20).optional(),
  active: z.boolean().optional(),
});

export const rotation = z.object({
  /** A JSON integer: a string, a fraction or a negative number is refused, never rounded or read as 0. */
  grace_seconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_GRACE_SECONDS)
    .default(24 * 3600),
  /** Rotate even during an earlier rotation's grace period, ending that older key now. */
  force: z.boolean().default(false),
});

export const whitelistChange = z
  .object({
    login: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/)
      .optional(),
    github_id: z
      .string()
      .regex(/^\d{1,20}$/)
      .optional(),
    allowed: z.boolean(),
  })
  .refine((body) => (body.login === undefined) !== (body.github_id === undefined), {
    error: 'give exactly one of login or github_id',
  });

/** Text Postgres can store: it refuses NUL, which would otherwise turn a bad filter into a 500. */
const storableText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes('\u0000'), { error: 'must not contain NUL' });

export const auditFilters = z.object({
  service: storableText(100).optional(),
  user_id: z.string().uuid().optional(),
  action: storableText(100).optional(),
  success: z.enum(['true', 'false']).optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
  limit: decimalInteger(1, 500).default(50),
  cursor: storableText(200).optional(),
});

/** A service id from the path. One Postgres could not store (it contains NUL) names no service. */
function serviceIdFrom(id: string): string {
  if (id.includes('\u0000'))
    throw new ApiError(404, 'unknown_service', 'There is no such service; `npm run services:list` shows them.');
  return id;
}

function serviceJson(service: ServiceSummary) {
  return {
    id: service.identifier,
    name: service.displayName,
    scopes: service.scopes,
    redirect_uris: service.redirectUris,
    active: service.isActive,
    legacy_key: service.legacyKey,
    previous_key_expires_at: service.previousKeyExpiresAt?.toISOString() ?? null,
    last_used_at: service.lastUsedAt?.toISOString() ?? null,
    created_at: service.createdAt.toISOString(),
  };
}

/** Domain refusals as API errors: bad input 400, unknown service 404. */
function asApiError(error: unknown): never {
  if (error instanceof ServiceInputError || error instanceof AuditQueryError)
    throw new ApiError(400, error.code, error.message);
  if (error instanceof UnknownServiceError) throw new ApiError(404, error.code, error.message);
  if (error instanceof AmbiguousLoginError) throw new ApiError(409, error.code, error.message);
  if (error instanceof RotationInProgressError)
    throw new ApiError(409, error.code, `${error.message} Send "force": true to rotate anyway and end it now.`);
  throw error;
}

/** The operator commands as an API, for services holding the `admin` scope (docs/api.md). */
export const adminRoutes = new Hono<AppEnv>()
  .use('/v1/admin/*', requireService('admin'))
  .get('/v1/admin/services', async (c) =>
    c.json({ services: (await listServices(c.var.database())).map(serviceJson) }, 200),
  )
  .post('/v1/admin/services', async (c) => {
    const body = await readJsonBody(c, newService);
    const created = await registerService(c.var.database(), {
      identifier: body.id,
      displayName: body.name,
      scopes: body.scopes,
      redirectUris: body.redirect_uris,
    }).catch(asApiError);
    return c.json({ id: created.identifier, key: created.key }, 201);
  })
  .patch('/v1/admin/services/:id', async (c) => {
    const body = await readJsonBody(c, serviceChange);
    const db = c.var.database();
    const id = serviceIdFrom(c.req.param('id'));
    let service: ServiceSummary | undefined;
    if (body.scopes || body.redirect_uris) {
      service = await updateServiceAccess(db, id, {
        ...(body.scopes ? { scopes: body.scopes } : {}),
        ...(body.redirect_uris ? { redirectUris: body.redirect_uris } : {}),
      }).catch(asApiError);
    }
    if (body.active !== undefined) service = await setServiceActive(db, id, body.active).catch(asApiError);
    if (!service) throw new ApiError(400, 'invalid_body', 'Give scopes, redirect_uris or active.');
    return c.json(serviceJson(service), 200);
  })
  .post('/v1/admin/services/:id/rotate-key', async (c) => {
    const body = await readJsonBody(c, rotation);
    const rotated = await rotateServiceKey(
      c.var.database(),
      serviceIdFrom(c.req.param('id')),
      body.grace_seconds,
      new Date(),
      { force: body.force },
    ).catch(asApiError);
    return c.json(
      { key: rotated.key, previous_key_expires_at: rotated.previousKeyExpiresAt?.toISOString() ?? null },
      200,
    );
  })
  .post('/v1/admin/users/whitelist', async (c) => {
    const body = await readJsonBody(c, whitelistChange);
    const person = body.login ? { login: body.login } : { githubId: body.github_id ?? '' };
    const changed = await setWhitelisted(c.var.database(), person, body.allowed).catch(asApiError);
    if (!changed)
      throw new ApiError(404, 'unknown_user', 'No such person has signed in yet; they must sign in once first.');
    c.var.audit.userId = changed.id;
    return c.json(
      {
        id: changed.id,
        github_id: changed.githubUserId,
        login: changed.githubLogin,
        whitelisted: changed.isWhitelisted,
      },
      200,
    );
  })
  .get('/v1/admin/audit', async (c) => {
    const filters = auditFilters.safeParse(c.req.query());
    if (!filters.success) {
      const issue = filters.error.issues[0];
      throw new ApiError(400, 'invalid_query', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
    }
    const f = filters.data;
    const page = await queryAudit(c.var.database(), {
      limit: f.limit,
      ...(f.service ? { service: f.service } : {}),
      ...(f.user_id ? { userId: f.user_id } : {}),
      ...(f.action ? { action: f.action } : {}),
      ...(f.success ? { success: f.success === 'true' } : {}),
      ...(f.since ? { since: new Date(f.since) } : {}),
      ...(f.until ? { until: new Date(f.until) } : {}),
      ...(f.cursor ? { cursor: f.cursor } : {}),
    }).catch(asApiError);
    return c.json(
      {
        entries: page.entries.map((entry) => ({
          id: entry.id,
          at: entry.at.toISOString(),
          service: entry.service,
          user_id: entry.userId,
          action: entry.action,
          success: entry.success,
          code: entry.code,
          request_id: entry.requestId,
          ip_address: entry.ipAddress,
          user_agent: entry.userAgent,
        })),
        next_cursor: page.nextCursor,
      },
      200,
    );
  });
