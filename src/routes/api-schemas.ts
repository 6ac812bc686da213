import * as z from 'zod';

/** Response shapes of the JSON API: handlers answer `satisfies` these, and /openapi.json shows them. */
export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

const person = z.object({
  id: z.string().uuid(),
  github_id: z.string(),
  login: z.string().nullable(),
  whitelisted: z.boolean(),
});

export const verifyResponse = z.object({
  valid: z.boolean(),
  code: z.enum([
    'ok',
    'malformed_session',
    'invalid_session',
    'expired_session',
    'revoked_session',
    'foreign_session',
    'unknown_user',
    'not_whitelisted',
  ]),
  user: person.nullable(),
  scopes: z.array(z.string()),
});

export const githubTokenResponse = z.object({
  access_token: z.string(),
  expires_at: z.string().nullable(),
  refreshed: z.boolean(),
});

export const exchangeResponse = z.object({
  session: z.object({ token: z.string(), expires_at: z.string() }),
  user: z.object({ id: z.string().uuid(), github_id: z.string(), login: z.string().nullable() }),
});

export const revokeResponse = z.object({ revoked: z.boolean() });

export const healthResponse = z.object({
  status: z.literal('ok'),
  database: z.object({ reachable: z.literal(true), roundTripMs: z.number() }),
});
