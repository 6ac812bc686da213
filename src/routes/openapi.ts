import { Hono } from 'hono';
import * as z from 'zod';
import type { AppEnv } from '../http/context.ts';
import { newService, rotation, serviceChange, whitelistChange } from './admin.ts';
import {
  errorResponse,
  exchangeResponse,
  githubTokenResponse,
  healthResponse,
  revokeResponse,
  verifyResponse,
} from './api-schemas.ts';
import { exchangeBody, revokeBody } from './sessions.ts';
import { personBody } from './verify.ts';

/**
 * The OpenAPI 3.1 document of the JSON API, built from the same zod schemas that validate the
 * requests (and that the handlers' answers satisfy), so it cannot drift from the code.
 */
function schema(type: z.ZodType) {
  return z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
}

function operation(
  summary: string,
  scope: string | null,
  body: z.ZodType | null,
  ok: [number, z.ZodType],
  errors: number[],
) {
  const responses: Record<string, unknown> = {
    [ok[0]]: { description: 'Success', content: { 'application/json': { schema: schema(ok[1]) } } },
  };
  for (const status of errors) {
    responses[status] = {
      description: 'Error (see docs/api.md for the codes)',
      content: { 'application/json': { schema: schema(errorResponse) } },
    };
  }
  return {
    summary,
    ...(scope ? { security: [{ serviceKey: [] }], description: `Requires the \`${scope}\` scope.` } : {}),
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(body) } } } } : {}),
    responses,
  };
}

const SERVICE_ERRORS = [400, 401, 403, 413, 415, 429];

function buildDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Edge GitHub gateway',
      version: '1',
      description: 'Sign-in with GitHub and service verification. The guide is docs/api.md.',
    },
    components: {
      securitySchemes: { serviceKey: { type: 'http', scheme: 'bearer', description: 'A service key, gwk_…' } },
    },
    paths: {
      '/health': { get: operation('Database reachability', null, null, [200, healthResponse], [503]) },
      '/v1/sessions/exchange': {
        post: operation(
          'Exchange a login code for a session',
          'any',
          exchangeBody,
          [200, exchangeResponse],
          [...SERVICE_ERRORS],
        ),
      },
      '/v1/sessions/revoke': {
        post: operation('Revoke a session', 'any', revokeBody, [200, revokeResponse], SERVICE_ERRORS),
      },
      '/v1/verify': {
        post: operation(
          'Who is this person, and may they come in?',
          'users:verify',
          personBody,
          [200, verifyResponse],
          SERVICE_ERRORS,
        ),
      },
      '/v1/github-token': {
        post: operation(
          "The person's GitHub access token",
          'github:token',
          personBody,
          [200, githubTokenResponse],
          [...SERVICE_ERRORS, 409],
        ),
      },
      '/v1/admin/services': {
        get: operation(
          'List services',
          'admin',
          null,
          [200, z.object({ services: z.array(z.object({}).loose()) })],
          SERVICE_ERRORS,
        ),
        post: operation(
          'Register a service',
          'admin',
          newService,
          [201, z.object({ id: z.string(), key: z.string() })],
          SERVICE_ERRORS,
        ),
      },
      '/v1/admin/services/{id}': {
        patch: operation(
          'Change scopes, redirect URIs or active',
          'admin',
          serviceChange,
          [200, z.object({}).loose()],
          [...SERVICE_ERRORS, 404],
        ),
      },
      '/v1/admin/services/{id}/rotate-key': {
        post: operation(
          'Rotate the key with a grace period',
          'admin',
          rotation,
          [200, z.object({ key: z.string(), previous_key_expires_at: z.string().nullable() })],
          [...SERVICE_ERRORS, 404, 409],
        ),
      },
      '/v1/admin/users/whitelist': {
        post: operation(
          'Whitelist or un-whitelist a person',
          'admin',
          whitelistChange,
          [200, z.object({}).loose()],
          [...SERVICE_ERRORS, 404],
        ),
      },
      '/v1/admin/audit': {
        get: operation('Query the audit log', 'admin', null, [200, z.object({}).loose()], SERVICE_ERRORS),
      },
    },
  };
}

let document: ReturnType<typeof buildDocument> | undefined;

export const openApiRoutes = new Hono<AppEnv>().get('/openapi.json', (c) => {
  document ??= buildDocument();
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(document, 200);
});
