import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { callWorker } from '../support/worker/call-worker.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the Worker inside workerd', () => {
  it('answers an unknown route with 404 and the JSON error shape', async () => {
    const response = await callWorker(env, '/no-such-route');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /no-such-route.' },
    });
  });

  it('answers a wrong method with 405, an Allow header and the JSON error shape', async () => {
    const response = await callWorker(env, '/health', { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('method_not_allowed');
    expect(body.error.message).toContain('GET');
  });

  it('puts a request id on every response, and keeps a well-formed one from the caller', async () => {
    const generated = await callWorker(env, '/no-such-route');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const passed = await callWorker(env, '/no-such-route', { headers: { 'X-Request-Id': 'caller-trace-42' } });
    expect(passed.headers.get('x-request-id')).toBe('caller-trace-42');

    const hostile = await callWorker(env, '/no-such-route', { headers: { 'X-Request-Id': '<script>' } });
    expect(hostile.headers.get('x-request-id')).not.toBe('<script>');
  });

  it('sends security headers on JSON answers', async () => {
    const response = await callWorker(env, '/no-such-route');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('lets the stylesheet and the OpenAPI document keep their own caching', async () => {
    expect((await callWorker(env, '/assets/gateway.css')).headers.get('cache-control')).toBe('public, max-age=3600');
    expect((await callWorker(env, '/openapi.json')).headers.get('cache-control')).toBe('public, max-age=300');
  });
});

describe('a malformed configuration', () => {
  const secret = 'mysql://admin:hunter2-secret@db.internal/prod';

  it('gives the client a generic 500 and the log a message naming the binding, not its value', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const response = await callWorker({ ...env, DATABASE_URL: secret }, '/health');

    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal_error', message: 'The server could not handle this request.' },
    });
    expect(text).not.toContain('DATABASE_URL');
    expect(response.headers.get('x-request-id')).toBeTruthy();

    const lines = logged.mock.calls.map((call) => String(call[0]));
    const configLine = lines.find((line) => line.includes('config.invalid'));
    expect(configLine).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
    expect(lines.join('\n')).not.toContain('hunter2');
  });

  it.each([
    ['GITHUB_OAUTH_URL', 'http://github.example.com'],
    ['GITHUB_API_URL', 'http://10.0.0.5/api/v3'],
    ['PUBLIC_URL', 'http://gateway.example.com'],
  ])(
    'refuses %s over plain http to another host (the client secret and tokens would travel in clear)',
    async (name, value) => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
      const response = await callWorker({ ...env, [name]: value }, '/livez');
      expect(response.status).toBe(500);
      expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toContain(`${name} must be an https URL`);
    },
  );

  it('accepts http to loopback, where the stand-in GitHub and wrangler dev live', async () => {
    const response = await callWorker(
      { ...env, PUBLIC_URL: 'http://127.0.0.1:8787', GITHUB_OAUTH_URL: 'http://localhost:9' },
      '/livez',
    );
    expect(response.status).toBe(200);
  });

  it.each([['db.example.com:5432'], ['10.0.0.5:54330'], ['[2001:db8::1]:54330']])(
    'refuses DATABASE_WS_PROXY %s: the bridge is reached without TLS, so only on loopback',
    async (proxy) => {
      const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
      const response = await callWorker({ ...env, DATABASE_WS_PROXY: proxy }, '/livez');
      expect(response.status).toBe(500);
      expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toContain(
        'DATABASE_WS_PROXY must be a loopback host:port',
      );
    },
  );

  it('names DATABASE_WS_PROXY_SECRET as missing when DATABASE_WS_PROXY is set without it', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { DATABASE_WS_PROXY_SECRET: _removed, ...withoutSecret } = env;
    const response = await callWorker(withoutSecret as typeof env, '/livez');
    expect(response.status).toBe(500);
    expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toContain(
      'DATABASE_WS_PROXY_SECRET is missing',
    );
  });

  it('names a missing secret as missing', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { DATABASE_URL: _removed, ...withoutUrl } = env;
    const response = await callWorker(withoutUrl as typeof env, '/health');
    expect(response.status).toBe(500);
    expect(logged.mock.calls.map((call) => String(call[0])).join('\n')).toContain('DATABASE_URL is missing');
  });
});
