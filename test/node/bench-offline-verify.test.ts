import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Unstable_DevWorker, unstable_dev } from 'wrangler';
import { tamper } from '../../bench/offline-verify.ts';
import { generateAssertionKey, loadAssertionKeys } from '../../src/crypto/assertion-keys.ts';

/**
 * The bench's offline verify Worker (bench/workers/offline-verify.ts) must do the real check, or
 * `npm run bench` would time a no-op: an assertion with the gateway's claims and key format
 * verifies, a tampered one is refused. A loopback server plays the gateway's /.well-known/jwks.json.
 */
let worker: Unstable_DevWorker;
let jwksServer: Server;
let gatewayUrl: string;
let assertion: string;
let jwksRequests = 0;

beforeAll(async () => {
  const { privateJwk } = await generateAssertionKey();
  const keys = await loadAssertionKeys(JSON.stringify(privateJwk), '');
  jwksServer = createServer((_request, response) => {
    jwksRequests += 1;
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    response.end(JSON.stringify(keys.jwks));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
  if (keys.signing === null) throw new Error('no signing key');
  // The claims the gateway signs (src/sessions/assertions.ts), signed here with jose directly: that
  // module reads the Worker's config types, which this Node-side project does not have.
  const issuedAt = Math.floor(Date.now() / 1000);
  assertion = await new SignJWT({ github_id: '1', login: 'bench-person', scope: 'users:verify', sid: 'bench-session' })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'JWT' })
    .setIssuer(gatewayUrl)
    .setSubject('00000000-0000-4000-8000-000000000001')
    .setAudience('bench')
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 300)
    .sign(keys.signing.privateKey);
  worker = await unstable_dev('bench/workers/offline-verify.ts', {
    config: 'bench/workers/offline-verify.toml',
    ip: '127.0.0.1',
    logLevel: 'error',
    experimental: { disableExperimentalWarning: true },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

async function batch(token: string, n: number): Promise<{ verified: number; refusal: string | null }> {
  const response = await worker.fetch('http://bench/verify', {
    method: 'POST',
    body: JSON.stringify({ gatewayUrl, serviceId: 'bench', assertion: token, n }),
  });
  return (await response.json()) as { verified: number; refusal: string | null };
}

describe('the bench offline verify Worker', () => {
  it('verifies each of a batch of gateway-signed assertions, fetching the key set once', async () => {
    expect(await batch(assertion, 50)).toMatchObject({ verified: 50, refusal: null });
    expect(await batch(assertion, 50)).toMatchObject({ verified: 50, refusal: null });
    expect(jwksRequests).toBe(1);
  });

  it('refuses a tampered assertion as bad_signature, so the bench cannot time a check that checks nothing', async () => {
    expect(await batch(tamper(assertion), 3)).toEqual(
      expect.objectContaining({ verified: 0, refusal: 'bad_signature' }),
    );
  });

  it('refuses an assertion for another service as wrong_audience', async () => {
    const response = await worker.fetch('http://bench/verify', {
      method: 'POST',
      body: JSON.stringify({ gatewayUrl, serviceId: 'another-service', assertion, n: 1 }),
    });
    expect(await response.json()).toMatchObject({ verified: 0, refusal: 'wrong_audience' });
  });
});
