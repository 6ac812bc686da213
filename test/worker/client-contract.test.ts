import { env } from 'cloudflare:test';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as z from 'zod';
import {
  EXCHANGE_ERROR_CODES,
  type ExchangeResponse,
  GITHUB_TOKEN_ERROR_CODES,
  type GitHubToken,
  type Person,
  REVOKE_ERROR_CODES,
  type RevokeResponse,
  SHARED_ERROR_CODES,
  VERIFY_CODES,
  VERIFY_ERROR_CODES,
  type Verdict,
} from '../../client/src/index.ts';
import type { person } from '../../src/routes/contract.ts';
import type { exchangeResponse, revokeResponse } from '../../src/routes/sessions.routes.ts';
import type { githubTokenResponse, verifyResponse } from '../../src/routes/verify.routes.ts';
import { VERIFY_CODES as GATEWAY_VERIFY_CODES } from '../../src/verify/verify-person.ts';
import { callWorker } from '../support/worker/call-worker.ts';

type Schema = { $ref?: string; properties?: Record<string, Schema>; enum?: string[] };
type Answer = { $ref?: string; content?: { 'application/json': { schema: Schema } } };
type OpenApi = {
  paths: Record<string, Record<string, { responses: Record<string, Answer> }>>;
  components: { responses: Record<string, Answer> };
};

/** Every error code an operation of /openapi.json lists, its shared answers (components) resolved. */
function errorCodesOf(document: OpenApi, path: string): string[] {
  const operation = document.paths[path]?.post;
  if (operation === undefined) throw new Error(`/openapi.json has no POST ${path}`);
  return Object.entries(operation.responses)
    .filter(([status]) => Number(status) >= 400)
    .flatMap(([, answer]) => {
      const named = answer.$ref?.replace('#/components/responses/', '');
      const body = named === undefined ? answer : document.components.responses[named];
      return body?.content?.['application/json'].schema.properties?.error?.properties?.code?.enum ?? [];
    });
}

describe("the client's declarations are the gateway's (they fail here, and in npm run check, if they drift)", () => {
  it('the answers: Verdict, Person, ExchangeResponse, GitHubToken, RevokeResponse are the route schemas', () => {
    expectTypeOf<Verdict>().toEqualTypeOf<z.output<typeof verifyResponse>>();
    expectTypeOf<Person>().toEqualTypeOf<z.output<typeof person>>();
    expectTypeOf<ExchangeResponse>().toEqualTypeOf<z.output<typeof exchangeResponse>>();
    expectTypeOf<GitHubToken>().toEqualTypeOf<z.output<typeof githubTokenResponse>>();
    expectTypeOf<RevokeResponse>().toEqualTypeOf<z.output<typeof revokeResponse>>();
    expect(VERIFY_CODES).toEqual(GATEWAY_VERIFY_CODES);
  });

  it("each call's error codes are those its operation lists in /openapi.json, shared ones included", async () => {
    const document = (await (await callWorker(env, '/openapi.json')).json()) as OpenApi;
    const sharedCodes = Object.values(document.components.responses).flatMap(
      (answer) => answer.content?.['application/json'].schema.properties?.error?.properties?.code?.enum ?? [],
    );
    expect(new Set(sharedCodes)).toEqual(new Set(SHARED_ERROR_CODES));
    const calls: Array<[string, readonly string[]]> = [
      ['/v1/sessions/exchange', EXCHANGE_ERROR_CODES],
      ['/v1/sessions/revoke', REVOKE_ERROR_CODES],
      ['/v1/verify', VERIFY_ERROR_CODES],
      ['/v1/github-token', GITHUB_TOKEN_ERROR_CODES],
    ];
    for (const [path, own] of calls) {
      const listed = new Set(errorCodesOf(document, path));
      const known = new Set<string>([...SHARED_ERROR_CODES, ...own]);
      expect({ path, unknownToTheClient: [...listed].filter((code) => !known.has(code)) }).toEqual({
        path,
        unknownToTheClient: [],
      });
      expect({ path, notListed: own.filter((code) => !listed.has(code)) }).toEqual({ path, notListed: [] });
    }
  });
});
