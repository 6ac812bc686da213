import * as z from 'zod';
import { json, sharedError } from './contract.ts';
import { declareRoute } from './declared-router.ts';

const publicJwk = z
  .object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string(),
    kid: z.string(),
    alg: z.literal('EdDSA'),
    use: z.literal('sig'),
  })
  .meta({ id: 'AssertionKey', description: 'An Ed25519 public key (RFC 8037) that assertions are signed with.' });

export const jwksResponse = z.object({ keys: z.array(publicJwk) });

export const jwksRoute = declareRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  tags: ['sessions'],
  operationId: 'getAssertionKeys',
  summary: 'The public keys assertions are signed with (a JWK Set)',
  responses: {
    200: json(
      jwksResponse,
      'The current signing key, then the keys being rotated out; empty when the gateway issues no assertions. Public, cached 5 minutes.',
    ),
    500: sharedError(500),
  },
});
