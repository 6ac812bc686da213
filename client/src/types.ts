/**
 * The gateway's answers as they arrive on the wire (docs/api.md). These are the client's own
 * declarations, so the package needs nothing of the gateway's; test/worker/client-contract.test.ts
 * checks them against the route declarations /openapi.json is made from, and fails if they drift.
 */

/** The codes of `POST /v1/verify`: every one is a 200 answer, `valid` true only for `ok`. */
export const VERIFY_CODES = [
  'ok',
  'malformed_session',
  'invalid_session',
  'expired_session',
  'revoked_session',
  'foreign_session',
  'unknown_user',
  'not_whitelisted',
  'not_a_member',
  'membership_unverified',
] as const;

export type VerifyCode = (typeof VERIFY_CODES)[number];

/** A person as verify answers them. */
export interface Person {
  id: string;
  github_id: string;
  login: string | null;
  whitelisted: boolean;
}

/** `POST /v1/verify`'s answer. */
export interface Verdict {
  valid: boolean;
  code: VerifyCode;
  user: Person | null;
  scopes: string[];
}

/** A short-lived signed assertion (a JWT, EdDSA) of the person: docs/api.md, "Assertions verified offline". */
export interface SignedAssertion {
  token: string;
  expires_at: string;
}

/** `POST /v1/sessions/exchange`'s answer; `assertion` is null when the gateway issues none. */
export interface ExchangeResponse {
  session: { token: string; expires_at: string };
  user: { id: string; github_id: string; login: string | null };
  assertion: SignedAssertion | null;
}

/** `POST /v1/github-token`'s answer. */
export interface GitHubToken {
  access_token: string;
  expires_at: string | null;
  refreshed: boolean;
}

/** `POST /v1/sessions/revoke`'s answer: false when it was already revoked or is not yours. */
export interface RevokeResponse {
  revoked: boolean;
}

/** The error codes any `/v1` call can get (docs/api.md, "Errors of every /v1 call", "Service authentication"). */
export const SHARED_ERROR_CODES = [
  'missing_key',
  'malformed_key',
  'invalid_key',
  'inactive_service',
  'insufficient_scope',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal_error',
  'database_unavailable',
] as const;

export const BODY_ERROR_CODES = ['invalid_json', 'invalid_body'] as const;

/** The codes only the exchange answers (400 and 403). */
export const EXCHANGE_ERROR_CODES = [
  ...BODY_ERROR_CODES,
  'invalid_code',
  'invalid_code_verifier',
  'redirect_uri_mismatch',
  'not_whitelisted',
] as const;

/** The codes only the revoke answers (400). */
export const REVOKE_ERROR_CODES = [...BODY_ERROR_CODES, 'malformed_session', 'invalid_session'] as const;

/** The codes only verify answers as errors (400): its verdicts are answers, not errors. */
export const VERIFY_ERROR_CODES = [...BODY_ERROR_CODES] as const;

/** The codes only the GitHub-token call answers (400, 403 with any verify code but ok, 409). */
export const GITHUB_TOKEN_ERROR_CODES = [
  ...BODY_ERROR_CODES,
  'foreign_user',
  ...VERIFY_CODES.filter((code): code is Exclude<VerifyCode, 'ok'> => code !== 'ok'),
  'no_token',
  'refresh_failed',
  'token_unreadable',
] as const;

/** What the client itself says when no answer came: the time ran out, or the network failed. */
export const TRANSPORT_ERROR_CODES = ['timeout', 'network_error', 'unexpected_response'] as const;

export type SharedErrorCode = (typeof SHARED_ERROR_CODES)[number];
export type ExchangeErrorCode = SharedErrorCode | (typeof EXCHANGE_ERROR_CODES)[number];
export type RevokeErrorCode = SharedErrorCode | (typeof REVOKE_ERROR_CODES)[number];
export type VerifyErrorCode = SharedErrorCode | (typeof VERIFY_ERROR_CODES)[number];
export type GitHubTokenErrorCode = SharedErrorCode | (typeof GITHUB_TOKEN_ERROR_CODES)[number];
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];
export type GatewayErrorCode =
  | ExchangeErrorCode
  | RevokeErrorCode
  | VerifyErrorCode
  | GitHubTokenErrorCode
  | TransportErrorCode;

/** The JSON of every gateway error answer. */
export interface GatewayErrorBody {
  error: { code: string; message: string };
}

/** `error` of a sign-in that came back without a code (docs/api.md, "When the sign-in does not succeed"). */
export const SIGN_IN_ERRORS = ['access_denied', 'temporarily_unavailable', 'server_error'] as const;
export type SignInError = (typeof SIGN_IN_ERRORS)[number];
