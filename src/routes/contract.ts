import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { requireService, type Scope, type ServiceAccessOptions } from '../http/service-auth.ts';

/**
 * What every route declaration shares: the service-key security scheme, the error answers every
 * service call can get (as components of /openapi.json), and the schemas more than one area uses.
 */

export const SERVICE_KEY_SCHEME = 'serviceKey';

/**
 * The security of a service operation, and its enforcement, from one scope: the document's
 * requirement (`serviceKey: [scope]`) and the `requireService` middleware that checks it. Without a
 * scope any registered service's key will do.
 */
export function serviceAccess(scope?: Scope, options: ServiceAccessOptions = {}) {
  return { security: serviceKeySecurity(scope), middleware: [requireService(scope, options)] };
}

/** The document's half of `serviceAccess`, for routes whose router applies `requireService` itself. */
export function serviceKeySecurity(scope?: Scope) {
  return [{ [SERVICE_KEY_SCHEME]: scope ? [scope] : [] }];
}

type Codes = readonly string[];

/** `{ error: { code, message } }` with the codes an answer can carry. */
export function errorSchema(codes: Codes) {
  return z.object({ error: z.object({ code: z.enum(codes), message: z.string() }) });
}

/** A JSON answer. */
export function json<Schema extends z.ZodType>(schema: Schema, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON request body (read by `readJsonBody`, src/http/json-body.ts). */
export function jsonRequest<Schema extends z.ZodType>(schema: Schema, description: string) {
  return { description, required: true, content: { 'application/json': { schema } } };
}

/** An error answer of one operation, with its codes. */
export function errorResponse(codes: Codes, description: string) {
  return json(errorSchema(codes), description);
}

/** The codes of a JSON body that is not JSON or does not fit the schema. */
export const BODY_CODES = ['invalid_json', 'invalid_body'] as const;

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' as const } },
};

/** The error answers shared by operations, by status: components/responses of the document. */
const SHARED_ERRORS = {
  401: {
    name: 'Unauthorized',
    description: 'No valid service key (docs/api.md, "Service authentication").',
    codes: ['missing_key', 'malformed_key', 'invalid_key', 'inactive_service'],
    headers: { 'WWW-Authenticate': { description: '`Bearer realm="gateway"`', schema: { type: 'string' as const } } },
  },
  403: {
    name: 'InsufficientScope',
    description: 'The service lacks the scope this operation needs.',
    codes: ['insufficient_scope'],
  },
  413: { name: 'PayloadTooLarge', description: 'The body is over 16 KiB.', codes: ['payload_too_large'] },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The body is not sent as `Content-Type: application/json`.',
    codes: ['unsupported_media_type'],
  },
  429: {
    name: 'RateLimited',
    description: "Over the service's rate limit, or the client address's key-check budget.",
    codes: ['rate_limited'],
    headers: retryAfter,
  },
  500: {
    name: 'InternalError',
    description: "A fault in the gateway; its log has it under the answer's X-Request-Id.",
    codes: ['internal_error'],
  },
  503: {
    name: 'DatabaseUnavailable',
    description: 'The database cannot be reached just now.',
    codes: ['database_unavailable'],
    headers: retryAfter,
  },
} satisfies Record<number, { name: string; description: string; codes: Codes; headers?: object }>;

type SharedStatus = keyof typeof SHARED_ERRORS;

/** A reference to a shared error answer. */
export function sharedError(status: SharedStatus) {
  return { $ref: `#/components/responses/${SHARED_ERRORS[status].name}` };
}

/**
 * The error answers of a service operation: a key problem, the rate limit, a fault and an outage
 * always; 413 and 415 when it takes a JSON body; 403 when it needs a scope (an operation with
 * more 403 codes declares its own 403 after these).
 */
export function serviceErrors(options: { body: boolean; scoped: boolean }) {
  return {
    401: sharedError(401),
    ...(options.scoped ? { 403: sharedError(403) } : {}),
    ...(options.body ? { 413: sharedError(413), 415: sharedError(415) } : {}),
    429: sharedError(429),
    500: sharedError(500),
    503: sharedError(503),
  };
}

/** Adds the security scheme and the shared error answers to a registry (the app's, once). */
export function registerSharedComponents(registry: OpenAPIRegistry): void {
  registry.registerComponent('securitySchemes', SERVICE_KEY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'A service key, `gwk_…` (an old-system key also needs the `X-Gateway-Service` header).',
  });
  for (const shared of Object.values(SHARED_ERRORS)) {
    // A raw component takes JSON Schema, not zod: zod's own conversion, without its $schema line.
    const { $schema: _dialect, ...schema } = z.toJSONSchema(errorSchema(shared.codes));
    registry.registerComponent('responses', shared.name, {
      description: shared.description,
      ...('headers' in shared ? { headers: shared.headers } : {}),
      content: { 'application/json': { schema: schema as { type: 'object' } } },
    });
  }
}

/** A person as verify and the admin whitelist answer them. */
export const person = z
  .object({
    id: z.uuid(),
    github_id: z.string(),
    login: z.string().nullable(),
    whitelisted: z.boolean(),
  })
  .meta({ id: 'Person' });
