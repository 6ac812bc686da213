import { describe, expect, it } from 'vitest';
import { createGatewayClient, GatewayClientError } from '../../client/src/index.ts';

const PERSON_ID = '0b7e2c8a-9d5f-4c3b-8a1e-2f6d7c9b0a11';
const VERDICT = { valid: false, code: 'invalid_session', user: null, scopes: ['users:verify'] };

/** A fetch that answers from a script, one answer a call (the last one again once it runs out), and counts. */
function scripted(...answers: Array<() => Response>) {
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL) => {
    calls.push(new URL(input instanceof Request ? input.url : input).pathname);
    return (answers[Math.min(calls.length - 1, answers.length - 1)] as () => Response)();
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

const refused = (status: number, code: string, retryAfter?: string) => () =>
  Response.json(
    { error: { code, message: `${code} (test)` } },
    { status, headers: retryAfter === undefined ? {} : { 'Retry-After': retryAfter } },
  );
const verdict = () => Response.json(VERDICT);
const exchanged = () =>
  Response.json({
    session: { token: 'gws_x', expires_at: '2026-12-02T00:00:00.000Z' },
    user: { id: PERSON_ID, github_id: '1', login: 'octocat' },
    assertion: null,
  });

function clientWith(fetch: typeof globalThis.fetch, options: { retries?: number; timeoutMs?: number } = {}) {
  return createGatewayClient({
    gatewayUrl: 'https://gateway.test',
    serviceId: 'billing',
    key: 'gwk_test',
    fetch,
    ...options,
  });
}

const caught = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe('client retries: only 429 and 503, after Retry-After, bounded', () => {
  it('a 503 with Retry-After then a 200: verify asks again once and answers the verdict', async () => {
    const gateway = scripted(refused(503, 'database_unavailable', '1'), verdict);
    expect(await clientWith(gateway.fetch).verify({ session: 'gws_x' })).toEqual(VERDICT);
    expect(gateway.calls).toEqual(['/v1/verify', '/v1/verify']);
  });

  it('a 429 with Retry-After then a 200: the GitHub-token call asks again once', async () => {
    const token = () => Response.json({ access_token: 'ghu_x', expires_at: null, refreshed: false });
    const gateway = scripted(refused(429, 'rate_limited', '0'), token);
    expect(await clientWith(gateway.fetch).githubToken({ userId: PERSON_ID })).toMatchObject({
      access_token: 'ghu_x',
    });
    expect(gateway.calls).toHaveLength(2);
  });

  it('a 500 is never asked again: one call, a GatewayClientError internal_error with status 500', async () => {
    const gateway = scripted(refused(500, 'internal_error'), verdict);
    const error = await caught(clientWith(gateway.fetch).verify({ session: 'gws_x' }));
    expect(error).toBeInstanceOf(GatewayClientError);
    expect(error).toMatchObject({ code: 'internal_error', status: 500 });
    expect(gateway.calls).toHaveLength(1);
  });

  it('a 400 is never asked again either', async () => {
    const gateway = scripted(refused(400, 'invalid_body'), verdict);
    expect(await caught(clientWith(gateway.fetch).verify({ session: 'gws_x' }))).toMatchObject({
      code: 'invalid_body',
    });
    expect(gateway.calls).toHaveLength(1);
  });

  it('503 after 503: at most `retries` more calls (default 2), then the 503 with its Retry-After', async () => {
    const always = scripted(refused(503, 'database_unavailable', '0'));
    const error = await caught(clientWith(always.fetch).verify({ session: 'gws_x' }));
    expect(error).toMatchObject({ code: 'database_unavailable', status: 503, retryAfterSeconds: 0 });
    expect(always.calls).toHaveLength(3);
    const once = scripted(refused(503, 'database_unavailable', '0'));
    await caught(clientWith(once.fetch, { retries: 0 }).verify({ session: 'gws_x' }));
    expect(once.calls).toHaveLength(1);
  });

  it('a Retry-After that would pass the deadline is not waited for: one call, the 429 at once', async () => {
    const gateway = scripted(refused(429, 'rate_limited', '30'), verdict);
    const error = await caught(clientWith(gateway.fetch, { timeoutMs: 5_000 }).verify({ session: 'gws_x' }));
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 30 });
    expect(gateway.calls).toHaveLength(1);
  });

  it('the exchange is asked again after a 429 (refused before it runs), never after a 503 (it may have run)', async () => {
    const limited = scripted(refused(429, 'rate_limited', '0'), exchanged);
    expect(await clientWith(limited.fetch).exchange('code', { redirectUri: 'https://a.test/cb' })).toMatchObject({
      session: { token: 'gws_x' },
    });
    expect(limited.calls).toEqual(['/v1/sessions/exchange', '/v1/sessions/exchange']);
    const outage = scripted(refused(503, 'database_unavailable', '0'), exchanged);
    const error = await caught(clientWith(outage.fetch).exchange('code', { redirectUri: 'https://a.test/cb' }));
    expect(error).toMatchObject({ code: 'database_unavailable', status: 503 });
    expect(outage.calls).toHaveLength(1);
  });

  it('revoke is not asked again after a 503 either (a revoke that ran would then say revoked: false)', async () => {
    const outage = scripted(refused(503, 'database_unavailable', '0'), () => Response.json({ revoked: true }));
    expect(await caught(clientWith(outage.fetch).revoke('gws_x'))).toMatchObject({ code: 'database_unavailable' });
    expect(outage.calls).toHaveLength(1);
  });

  it('a gateway that does not answer within timeoutMs: a GatewayClientError timeout, status null', async () => {
    const hanging = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;
    const error = await caught(clientWith(hanging, { timeoutMs: 50 }).verify({ session: 'gws_x' }));
    expect(error).toMatchObject({ code: 'timeout', status: null });
  });
});
