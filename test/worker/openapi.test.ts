import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { verifyResponse } from '../../src/routes/api-schemas.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { callService } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase } from '../support/worker/test-database.ts';

type OpenApi = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, unknown> } } } } }
    >
  >;
};

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
    const verifyBody = document.paths['/v1/verify']?.post?.requestBody?.content['application/json'].schema;
    expect(Object.keys(verifyBody?.properties ?? {})).toEqual(['session', 'user_id']);
  });

  it('matches what the API answers', async () => {
    const database = await createTestDatabase();
    const service = await registerService(database);
    const answer = await callService(database, '/v1/verify', service.key, { user_id: crypto.randomUUID() });
    expect(verifyResponse.safeParse(await answer.json()).success).toBe(true);
  });
});
