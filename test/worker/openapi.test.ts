import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { ROUTE_AUDIT_ACTIONS } from '../../src/audit/actions.ts';
import { openApiDocument } from '../../src/routes/openapi.ts';
import { ALL_ROUTES, API_ROUTES, AUDIT_ACTIONS } from '../../src/routes/route-table.ts';
import { verifyResponse } from '../../src/routes/verify.routes.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { callService } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase } from '../support/worker/test-database.ts';

type Schema = { $ref?: string; properties?: Record<string, unknown> };
type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: Schema } } } }>>;
  components: { schemas: Record<string, Schema> };
};

/** A schema, or the component it refers to. */
function resolved(document: OpenApi, schema: Schema | undefined): Schema | undefined {
  const name = schema?.$ref?.replace('#/components/schemas/', '');
  return name === undefined ? schema : document.components.schemas[name];
}

describe('GET /openapi.json', () => {
  it('describes every JSON endpoint, with request schemas generated from the validation schemas', async () => {
    const response = await callWorker(env, '/openapi.json');
    expect(response.status).toBe(200);
    const document = (await response.json()) as OpenApi;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/verify',
        '/v1/github-token',
        '/v1/sessions/exchange',
        '/v1/sessions/revoke',
        '/v1/admin/services',
      ]),
    );
    const verifyBody = resolved(
      document,
      document.paths['/v1/verify']?.post?.requestBody?.content['application/json'].schema,
    );
    expect(Object.keys(verifyBody?.properties ?? {})).toEqual(['session', 'user_id']);
  });

  it("is built from the route table's declarations, with PUBLIC_URL as its server and none without", async () => {
    const served = await (await callWorker(env, '/openapi.json')).json();
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument(API_ROUTES, 'https://gateway.test'))));
    expect((served as { servers: unknown }).servers).toEqual([{ url: 'https://gateway.test' }]);
    expect(openApiDocument(API_ROUTES, undefined).servers).toBeUndefined();
  });

  it('has every route the app serves under /v1, and nothing under /v1 the app does not serve', async () => {
    const document = (await (await callWorker(env, '/openapi.json')).json()) as OpenApi;
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replaceAll(/\{([^}]+)\}/g, ':$1')}`),
    );
    const served = [...servedRoutes()].filter((route) => route.includes(' /v1/'));
    expect(documented.filter((route) => route.includes(' /v1/')).sort()).toEqual(served.sort());
    expect(served).toHaveLength(20);
  });

  it('matches what the API answers', async () => {
    const database = await createTestDatabase();
    const service = await registerService(database);
    const answer = await callService(database, '/v1/verify', service.key, { user_id: crypto.randomUUID() });
    expect(verifyResponse.safeParse(await answer.json()).success).toBe(true);
  });
});

/** `POST /v1/verify`, `PATCH /v1/admin/services/:id`: the endpoints the app routes (middleware aside). */
function servedRoutes(): Set<string> {
  return new Set(
    createApp()
      .routes.filter((route) => route.method !== 'ALL')
      .map((route) => `${route.method} ${route.path}`),
  );
}

describe('the route table', () => {
  it('lists every route the app serves (the audit log, the error handler and the hostile-input test read it)', () => {
    const table = ALL_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(table.sort()).toEqual([...servedRoutes()].sort());
  });

  it('gives every /v1 operation an audit action, and every action the audit log knows belongs to one operation', () => {
    const declared = [...AUDIT_ACTIONS.values()];
    expect(declared.sort()).toEqual([...ROUTE_AUDIT_ACTIONS].sort());
    const v1Operations = API_ROUTES.filter((route) => route.path.startsWith('/v1/'));
    expect(AUDIT_ACTIONS.size).toBe(v1Operations.length);
  });
});
