import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createGatewayClient } from '../../client/src/index.ts';

/**
 * The client's offline assertion check under Node (>= 20), with Node's own WebCrypto: an
 * assertion signed by jose (as the gateway signs them) verifies, and the same with another key
 * in the key set is refused. The Worker-side tests are test/worker/client-assertions.test.ts.
 */

const GATEWAY = 'https://gateway.test';

async function gatewayKeys() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk: { ...jwk, kid: 'key-1', alg: 'EdDSA', use: 'sig' } };
}

function signed(privateKey: CryptoKey, claims: Record<string, unknown> = {}) {
  return new SignJWT({
    github_id: '583231',
    login: 'octocat',
    scope: 'users:verify github:token',
    sid: 'a-sid',
    ...claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'key-1', typ: 'JWT' })
    .setIssuer(GATEWAY)
    .setSubject('0b7e2c8a-9d5f-4c3b-8a1e-2f6d7c9b0a11')
    .setAudience('billing')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

function clientServing(keySet: unknown) {
  return createGatewayClient({
    gatewayUrl: GATEWAY,
    serviceId: 'billing',
    key: 'gwk_unused',
    fetch: async (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname !== '/.well-known/jwks.json') throw new Error(`unexpected request to ${url.pathname}`);
      return Response.json(keySet, { headers: { 'Cache-Control': 'public, max-age=300' } });
    },
  });
}

describe('client.verifyAssertion under Node', () => {
  it('an assertion signed by jose with the key the key set lists verifies offline with WebCrypto alone', async () => {
    const { privateKey, jwk } = await gatewayKeys();
    const verdict = await clientServing({ keys: [jwk] }).verifyAssertion(await signed(privateKey));
    expect(verdict).toMatchObject({
      valid: true,
      source: 'assertion',
      user: { id: '0b7e2c8a-9d5f-4c3b-8a1e-2f6d7c9b0a11', github_id: '583231', login: 'octocat' },
      scopes: ['users:verify', 'github:token'],
      sessionId: 'a-sid',
    });
  });

  it('signed by another key under the same kid: bad_signature', async () => {
    const { privateKey } = await gatewayKeys();
    const listed = await gatewayKeys();
    expect(await clientServing({ keys: [listed.jwk] }).verifyAssertion(await signed(privateKey))).toEqual({
      valid: false,
      source: 'assertion',
      code: 'bad_signature',
    });
  });

  it('a header without typ JWT, or with crit, is refused as malformed_assertion; the same claims under a plain header verify', async () => {
    const { privateKey, jwk } = await gatewayKeys();
    const client = clientServing({ keys: [jwk] });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: GATEWAY, aud: 'billing', sub: 'x', github_id: '1', login: null, scope: '', sid: 's' };
    const complete = await signedRaw(
      privateKey,
      { alg: 'EdDSA', kid: 'key-1', typ: 'JWT' },
      { ...claims, iat: now, exp: now + 300 },
    );
    expect(await client.verifyAssertion(complete)).toMatchObject({ valid: true, scopes: [] });
    const noTyp = await signedRaw(privateKey, { alg: 'EdDSA', kid: 'key-1' }, { ...claims, iat: now, exp: now + 300 });
    expect(await client.verifyAssertion(noTyp)).toMatchObject({ valid: false, code: 'malformed_assertion' });
    const withCrit = await signedRaw(
      privateKey,
      { alg: 'EdDSA', kid: 'key-1', typ: 'JWT', crit: ['x'], x: 1 },
      { ...claims, iat: now, exp: now + 300 },
    );
    expect(await client.verifyAssertion(withCrit)).toMatchObject({ valid: false, code: 'malformed_assertion' });
  });
});

/** A JWT signed with WebCrypto from a header as given (jose refuses to make some of these). */
async function signedRaw(privateKey: CryptoKey, header: object, payload: object): Promise<string> {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = await crypto.subtle.sign('Ed25519', privateKey, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}
