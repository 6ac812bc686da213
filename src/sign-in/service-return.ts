import type { GatewayError } from '../errors/gateway-error.ts';

/**
 * The OAuth 2.0 error a service receives (RFC 6749 section 4.1.2.1): `access_denied` when the
 * person cancelled at GitHub or is not admitted, `temporarily_unavailable` when GitHub or the
 * database did not answer, `server_error` for anything else.
 */
export type OAuthError = 'access_denied' | 'temporarily_unavailable' | 'server_error';

/** A failure, as the service that started the sign-in is told it. */
export interface ServiceFailure {
  error: OAuthError;
  /** The gateway's own code (`gateway_error`): which check or which step, as docs/api.md lists them. */
  gatewayError: string;
  /** For the person, if the service shows it (`error_description`). */
  description: string;
}

/** Where a sign-in started by a service returns, as sealed in its attempt when /login checked it. */
export interface ServiceReturn {
  redirectUri: string;
  /** The service's own state, sent back as it came (null: it sent none). */
  serviceState: string | null;
  /** The gateway's issuer identifier (RFC 9207 `iss`): PUBLIC_URL (null: not sent). */
  issuer: string | null;
}

/** The name of the extension parameter that carries the gateway's own code. */
export const GATEWAY_ERROR_PARAM = 'gateway_error';

/** The service's registered return address with the login code (success). */
export function successReturn(to: ServiceReturn, loginCode: string): string {
  const target = new URL(to.redirectUri);
  target.searchParams.set('code', loginCode);
  return withStateAndIssuer(target, to).toString();
}

/** The service's registered return address with the failure (RFC 6749 section 4.1.2.1). */
export function failureReturn(to: ServiceReturn, failure: ServiceFailure): string {
  const target = new URL(to.redirectUri);
  target.searchParams.set('error', failure.error);
  target.searchParams.set('error_description', oauthDescription(failure.description));
  target.searchParams.set(GATEWAY_ERROR_PARAM, failure.gatewayError);
  return withStateAndIssuer(target, to).toString();
}

function withStateAndIssuer(target: URL, to: ServiceReturn): URL {
  if (to.serviceState !== null) target.searchParams.set('state', to.serviceState);
  if (to.issuer !== null) target.searchParams.set('iss', to.issuer);
  return target;
}

/** Why a sign-in that failed after its state was checked failed, as the service is told it. */
export function serviceFailureOf(error: GatewayError | null, githubError: string | undefined): ServiceFailure {
  if (error === null) {
    return {
      error: 'server_error',
      gatewayError: 'internal_error',
      description: 'The gateway could not finish the sign-in.',
    };
  }
  const description = error.message;
  if (error.code === 'github_denied') {
    // GitHub's own answer: access_denied when the person cancelled; anything else is GitHub
    // refusing the gateway's request (a misconfigured app), the service can do nothing about it.
    const oauth: OAuthError = githubError === 'access_denied' ? 'access_denied' : 'server_error';
    return { error: oauth, gatewayError: error.code, description };
  }
  if (error.kind === 'unavailable' || error.kind === 'upstream')
    return { error: 'temporarily_unavailable', gatewayError: error.code, description };
  return { error: 'server_error', gatewayError: error.code, description };
}

/** A person not admitted (a verify refusal code), as the pending page's "Back to" link says it. */
export function refusalFailure(code: string): ServiceFailure {
  return {
    error: 'access_denied',
    gatewayError: code,
    description: 'You signed in with GitHub, but you are not allowed in (yet). Ask an operator of the gateway.',
  };
}

/**
 * error_description may hold only printable ASCII but `"` and `\` (RFC 6749 section 4.1.2.1):
 * typographic quotes become plain ones, anything else outside the set is dropped.
 */
function oauthDescription(text: string): string {
  return text
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d"]/g, "'")
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
