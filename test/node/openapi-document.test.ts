import { randomBytes } from 'node:crypto';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Unstable_DevWorker, unstable_dev } from 'wrangler';

// GET /openapi.json as the Worker serves it (in workerd, from src/index.ts and wrangler.toml),
// validated here in Node: the validator compiles JSON Schemas to code, which workerd does not
// allow. test/worker/openapi.test.ts checks the document against the routes the app serves.

type Schema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  additionalProperties?: boolean | Schema;
};
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-audit-action'?: string;
  parameters?: { name: string; in: string }[];
  responses: Record<string, { $ref?: string; content?: { 'application/json': { schema: Schema } } }>;
};
type Document = {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, { content: { 'application/json': { schema: Schema } } }>;
    securitySchemes: Record<string, { type: string; scheme: string }>;
  };
};

const PUBLIC_URL = 'https://gateway.example.com';
let worker: Unstable_DevWorker;
let document: Document;

beforeAll(async () => {
  worker = await unstable_dev('src/index.ts', {
    config: 'wrangler.toml',
    ip: '127.0.0.1',
    logLevel: 'error',
    // Enough for the configuration to be valid; the document touches no database or secret.
    vars: {
      DATABASE_URL: 'postgres://gateway:unused@127.0.0.1:9/gateway',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SESSION_SECRET: randomBytes(32).toString('base64'),
      GITHUB_CLIENT_ID: 'openapi-test',
      GITHUB_CLIENT_SECRET: 'openapi-test',
      PUBLIC_URL,
    },
    experimental: { disableExperimentalWarning: true },
  });
  const response = await worker.fetch('http://gateway/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

function documentedOperations(): [key: string, operation: Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]): [string, Operation] => [
      `${method.toUpperCase()} ${path.replaceAll(/\{([^}]+)\}/g, ':$1')}`,
      operation,
    ]),
  );
}

function resolve(schema: Schema): Schema {
  const name = schema.$ref?.replace('#/components/schemas/', '');
  return name === undefined ? schema : resolve(document.components.schemas[name] ?? {});
}

/** Every object schema reachable from `schema` (through refs, properties, items, unions). */
function objectSchemas(schema: Schema, seen = new Set<Schema>()): Schema[] {
  const resolved = resolve(schema);
  if (seen.has(resolved)) return [];
  seen.add(resolved);
  const children = [
    ...Object.values(resolved.properties ?? {}),
    ...(resolved.items ? [resolved.items] : []),
    ...(resolved.anyOf ?? []),
    ...(resolved.oneOf ?? []),
    ...(resolved.allOf ?? []),
  ];
  const own = resolved.type === 'object' || resolved.properties ? [resolved] : [];
  return [...own, ...children.flatMap((child) => objectSchemas(child, seen))];
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 by @readme/openapi-parser (the 3.1 schema, path parameters, unique operation ids)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
    expect(result.warnings).toEqual([]);
  });

  it('has the public JSON routes: GET /health, GET /livez and GET /openapi.json', () => {
    const documented = documentedOperations().map(([key]) => key);
    expect(documented).toEqual(expect.arrayContaining(['GET /health', 'GET /livez', 'GET /openapi.json']));
  });

  it('gives every operation an operationId and a tag, and every /v1 operation the service key with its scope and its audit action', () => {
    const scopes: Record<string, string[]> = {};
    for (const [key, operation] of documentedOperations()) {
      expect(operation.operationId, key).toMatch(/^[a-zA-Z]+$/);
      expect(operation.tags?.length, key).toBe(1);
      if (!key.includes(' /v1/')) continue;
      expect(operation.security, key).toHaveLength(1);
      scopes[key] = operation.security?.[0]?.serviceKey ?? ['(no serviceKey)'];
      expect(operation['x-audit-action'], key).toMatch(/^[a-z_]+$|^admin:[A-Z]+ [a-z/:-]+$/);
    }
    expect(scopes).toEqual({
      'POST /v1/sessions/exchange': [],
      'POST /v1/sessions/revoke': [],
      'POST /v1/sessions/assertion': ['users:verify'],
      'POST /v1/verify': ['users:verify'],
      'POST /v1/github-token': ['github:token'],
      'GET /v1/admin/services': ['admin'],
      'POST /v1/admin/services': ['admin'],
      'PATCH /v1/admin/services/:id': ['admin'],
      'DELETE /v1/admin/services/:id': ['admin'],
      'POST /v1/admin/services/:id/rotate-key': ['admin'],
      'PUT /v1/admin/services/:id/events': ['admin'],
      'DELETE /v1/admin/services/:id/events': ['admin'],
      'POST /v1/admin/services/:id/events/rotate-secret': ['admin'],
      'GET /v1/admin/services/:id/events/deliveries': ['admin'],
      'GET /v1/admin/users': ['admin'],
      'POST /v1/admin/users/whitelist': ['admin'],
      'GET /v1/admin/admission-rules': ['admin'],
      'POST /v1/admin/admission-rules': ['admin'],
      'DELETE /v1/admin/admission-rules/:id': ['admin'],
      'GET /v1/admin/audit': ['admin'],
    });
    expect(document.components.securitySchemes.serviceKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('has the shared error answers (401, 403, 413, 415, 429, 500, 503) as components, each with its codes, and every /v1 operation refers to them', () => {
    const codesOf = (name: string) => {
      const body = resolve(document.components.responses[name]?.content['application/json'].schema ?? {});
      return resolve(resolve(body.properties?.error ?? {}).properties?.code ?? {}).enum;
    };
    expect({
      401: codesOf('Unauthorized'),
      403: codesOf('InsufficientScope'),
      413: codesOf('PayloadTooLarge'),
      415: codesOf('UnsupportedMediaType'),
      429: codesOf('RateLimited'),
      500: codesOf('InternalError'),
      503: codesOf('DatabaseUnavailable'),
    }).toEqual({
      401: ['missing_key', 'malformed_key', 'invalid_key', 'inactive_service'],
      403: ['insufficient_scope'],
      413: ['payload_too_large'],
      415: ['unsupported_media_type'],
      429: ['rate_limited'],
      500: ['internal_error'],
      503: ['database_unavailable'],
    });
    for (const [key, operation] of documentedOperations()) {
      if (!key.includes(' /v1/')) continue;
      for (const status of ['401', '429', '500', '503']) {
        expect(operation.responses[status]?.$ref, `${key} ${status}`).toMatch(/^#\/components\/responses\//);
      }
    }
  });

  it('describes every answer field by field: no object without properties (no placeholder)', () => {
    for (const [key, operation] of documentedOperations()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const schema = response.content?.['application/json'].schema;
        if (!schema) continue;
        for (const object of objectSchemas(schema)) {
          expect(Object.keys(object.properties ?? {}), `${key} ${status}`).not.toEqual([]);
        }
      }
    }
  });

  it("keeps verify's user nullable (a reference the generator would otherwise make non-null)", () => {
    const verdict = resolve(
      document.paths['/v1/verify']?.post?.responses['200']?.content?.['application/json'].schema ?? {},
    );
    expect(verdict.properties?.user).toEqual({
      anyOf: [{ $ref: '#/components/schemas/Person' }, { type: 'null' }],
    });
  });

  it('names PUBLIC_URL as its server', () => {
    expect(document.servers).toEqual([{ url: PUBLIC_URL }]);
  });
});
