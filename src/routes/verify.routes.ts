import * as z from 'zod';
import { UUID_PATTERN } from '../db/ids.ts';
import { rowInVerifyBody } from '../verify/read-along.ts';
import { VERIFY_CODES } from '../verify/verify-person.ts';
import { BODY_CODES, errorResponse, json, jsonRequest, person, serviceAccess, serviceErrors } from './contract.ts';
import { declareRoute } from './declared-router.ts';

const tags = ['people'];

/** A person by a session token the calling service was issued, or by their user id. */
export const personBody = z
  .object({
    session: z.string().min(1).max(512).optional(),
    user_id: z.string().regex(UUID_PATTERN, { error: 'must be a user id (UUID)' }).optional(),
  })
  .refine((body) => (body.session === undefined) !== (body.user_id === undefined), {
    error: 'give exactly one of session or user_id',
  })
  .meta({ id: 'PersonRequest', description: 'Exactly one of `session` or `user_id`.' });

export const verifyResponse = z
  .object({
    valid: z.boolean(),
    code: z.enum(VERIFY_CODES),
    // A union, not .nullable(): the document generator drops the null of a nullable reference.
    user: z.union([person, z.null()]),
    scopes: z.array(z.string()),
  })
  .meta({ id: 'Verdict' });

export const githubTokenResponse = z.object({
  access_token: z.string(),
  expires_at: z.string().nullable(),
  refreshed: z.boolean(),
});

export const verifyRoute = declareRoute({
  method: 'post',
  path: '/v1/verify',
  tags,
  operationId: 'verifyPerson',
  summary: 'Who is this person, and may they come in?',
  'x-audit-action': 'verify',
  ...serviceAccess('users:verify', { staleReads: true, readAlong: rowInVerifyBody }),
  request: { body: jsonRequest(personBody, 'The person to verify.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(verifyResponse, 'The verdict: `valid` and its `code`, the person if known.'),
    400: errorResponse(BODY_CODES, 'The body is not JSON, or not exactly one of session or user_id.'),
  },
});

export const githubTokenRoute = declareRoute({
  method: 'post',
  path: '/v1/github-token',
  tags,
  operationId: 'getGitHubToken',
  summary: "The person's GitHub access token",
  'x-audit-action': 'github_token',
  ...serviceAccess('github:token'),
  request: { body: jsonRequest(personBody, 'The person whose token the service needs.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(githubTokenResponse, 'The access token, refreshed first when it was about to expire.'),
    400: errorResponse(BODY_CODES, 'The body is not JSON, or not exactly one of session or user_id.'),
    403: errorResponse(
      ['insufficient_scope', 'foreign_user', ...VERIFY_CODES.filter((code) => code !== 'ok')],
      'No token: the service lacks the scope, has no standing access to this person, or the person is not signed in and allowed in (a verify code).',
    ),
    409: errorResponse(
      ['no_token', 'refresh_failed', 'token_unreadable'],
      'The stored token cannot be handed out: the person must sign in again.',
    ),
  },
});
