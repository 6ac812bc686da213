import { type ErrorKind, GatewayError } from '../errors/gateway-error.ts';
import type { GitHubErrorCode } from '../github/client.ts';

/** Why a sign-in (or a sign-out from the gateway's page) did not go through. */
export type SignInErrorCode =
  | 'invalid_request'
  | 'unknown_service'
  | 'unregistered_redirect_uri'
  | 'missing_service'
  | 'sign_in_expired'
  | 'state_mismatch'
  | 'github_denied'
  | `github_${GitHubErrorCode}`
  | 'configuration_error'
  /** GitHub did not answer whether the person is a member of an org or team that admits people. */
  | 'membership_unanswered'
  | 'cross_site';

/**
 * A refusal a person sees on the sign-in pages, as the HTML error page (src/routes/page-errors.ts).
 * Most are the link's or the browser's fault (input); GitHub not answering is upstream's.
 */
export class SignInError extends GatewayError<SignInErrorCode> {
  constructor(code: SignInErrorCode, message: string, kind: ErrorKind = 'input', cause?: unknown) {
    super(code, kind, message, { cause });
  }
}
