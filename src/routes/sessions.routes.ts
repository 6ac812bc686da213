import * as z from 'zod';
import { VERIFY_CODES } from '../verify/verify-person.ts';
import { BODY_CODES, errorResponse, json, jsonRequest, serviceAccess, serviceErrors } from './contract.ts';
import { declareRoute } from './declared-router.ts';

const tags = ['sessions'];

export const exchangeBody = z.object({
  code: z.string().min(1).max(256),
  /** The sign-in's own redirect_uri, always (RFC 6749 §4.1.3: every sign-in through a service sends one). */
  redirect_uri: z
    .string({ error: 'is required: send the redirect_uri the sign-in started with' })
    .min(1, { error: 'is required: send the redirect_uri the sign-in started with' })
    .max(2048),
  /** Required when the sign-in sent a code_challenge; refused when it did not (RFC 7636, RFC 9700 §2.1.1). */
  code_verifier: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{43,128}$/, { error: 'must be 43-128 characters of A-Z a-z 0-9 . _ ~ -' })
    .optional(),
});

export const revokeBody = z.object({ session: z.string().min(1).max(512) });

/** A signed assertion (a JWT, EdDSA) for offline verification; null when the gateway has no signing key. */
const assertion = z.union([z.object({ token: z.string(), expires_at: z.string() }), z.null()]).meta({
  id: 'Assertion',
  description:
    'A JWT signed with Ed25519 (EdDSA), verifiable against /.well-known/jwks.json until `expires_at`; null when the gateway issues none (docs/api.md, "Assertions verified offline").',
});

export const exchangeResponse = z.object({
  session: z.object({ token: z.string(), expires_at: z.string() }),
  user: z.object({ id: z.uuid(), github_id: z.string(), login: z.string().nullable() }),
  assertion,
});

export const assertionResponse = z.object({
  valid: z.boolean(),
  code: z.enum(VERIFY_CODES),
  assertion,
});

export const revokeResponse = z.object({ revoked: z.boolean() });

export const exchangeRoute = declareRoute({
  method: 'post',
  path: '/v1/sessions/exchange',
  tags,
  operationId: 'exchangeLoginCode',
  summary: 'Exchange a login code for a session',
  'x-audit-action': 'session_exchange',
  ...serviceAccess(),
  request: {
    body: jsonRequest(exchangeBody, 'The login code, and the redirect_uri (and code_verifier) of its sign-in.'),
  },
  responses: {
    ...serviceErrors({ body: true, scoped: false }),
    200: json(exchangeResponse, 'The session token for the person, who they are, and an assertion of it.'),
    400: errorResponse(
      [...BODY_CODES, 'invalid_code', 'invalid_code_verifier', 'redirect_uri_mismatch'],
      'The code is unknown, expired, used or not yours, or the redirect_uri or code_verifier does not match its sign-in.',
    ),
    403: errorResponse(
      ['not_whitelisted'],
      'The person is no longer admitted since signing in (un-whitelisted, or their rule removed).',
    ),
  },
});

export const revokeRoute = declareRoute({
  method: 'post',
  path: '/v1/sessions/revoke',
  tags,
  operationId: 'revokeSession',
  summary: 'Revoke a session',
  'x-audit-action': 'session_revoke',
  ...serviceAccess(),
  request: { body: jsonRequest(revokeBody, 'The session token to end.') },
  responses: {
    ...serviceErrors({ body: true, scoped: false }),
    200: json(revokeResponse, '`revoked` is false when it was already revoked or is not one of yours.'),
    400: errorResponse(
      [...BODY_CODES, 'malformed_session', 'invalid_session'],
      'The body is not JSON, or the string is not a session token this gateway issued.',
    ),
  },
});

export const assertionRoute = declareRoute({
  method: 'post',
  path: '/v1/sessions/assertion',
  tags,
  operationId: 'refreshAssertion',
  summary: 'A new assertion for a live session',
  'x-audit-action': 'session_assertion',
  ...serviceAccess('users:verify'),
  request: { body: jsonRequest(revokeBody, 'The session token to assert.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(
      assertionResponse,
      'The session verified as /v1/verify does (`valid` and its `code`), and, when valid, a new assertion.',
    ),
    400: errorResponse(BODY_CODES, 'The body is not JSON, or has no session.'),
  },
});
