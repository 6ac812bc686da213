import * as oauth from 'oauth4webapi';
import { GatewayError } from '../errors/gateway-error.ts';
import { isLoopbackHost } from '../validation/loopback.ts';

/**
 * GitHub as an OAuth 2.0 provider (authorization code + PKCE S256) and as an API, with every
 * endpoint from configuration: github.com by default, a GitHub Enterprise Server, or the local
 * stand-in. The OAuth protocol work (PKCE, the token requests, client_secret_basic with its
 * form-urlencoding, the token response checks) is oauth4webapi's; what is GitHub's own (its
 * 200-with-error answers, its error codes) is handled here.
 */
export interface GitHubEndpoints {
  /** https://github.com, or https://HOST for Enterprise Server. */
  oauthUrl: string;
  /** https://api.github.com, or https://HOST/api/v3 for Enterprise Server. */
  apiUrl: string;
}

export interface GitHubAppCredentials extends GitHubEndpoints {
  clientId: string;
  clientSecret: string;
}

export interface GitHubTokenSet {
  accessToken: string;
  /** Present for GitHub App user tokens that expire; absent for non-expiring OAuth tokens. */
  refreshToken: string | null;
  accessTokenExpiresAt: Date | null;
}

export interface GitHubProfile {
  id: string;
  login: string;
  name: string | null;
  avatarUrl: string | null;
}

export type GitHubErrorCode =
  | 'bad_verification_code'
  | 'bad_refresh_token'
  | 'incorrect_client_credentials'
  | 'redirect_uri_mismatch'
  | 'github_error'
  | 'github_unreachable'
  | 'bad_credentials';

/**
 * What went wrong talking to GitHub; carries the gateway's code and, when the server named one,
 * the server's own error code (sanitized: safe to log), never a token.
 */
export class GitHubError extends GatewayError<GitHubErrorCode> {
  readonly serverError: string | null;

  constructor(code: GitHubErrorCode, message: string, serverError: string | null = null) {
    super(code, 'upstream', message);
    this.serverError = serverError;
  }
}

/**
 * How long a request to GitHub may take. A refresh runs while it holds the person's row lock, and
 * the callers queued behind it give up after the database's 10 s query timeout: GitHub must
 * answer well within that.
 */
export const GITHUB_TIMEOUT_MS = 5_000;

export function createCodeVerifier(): string {
  return oauth.generateRandomCodeVerifier();
}

/** Where the person is sent to sign in: state, PKCE S256 and the exact redirect_uri. */
export async function authorizationUrl(
  endpoints: GitHubEndpoints & { clientId: string },
  attempt: { redirectUri: string; state: string; codeVerifier: string },
): Promise<URL> {
  const url = new URL(authorizationServer(endpoints).authorization_endpoint ?? '');
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', endpoints.clientId);
  url.searchParams.set('redirect_uri', attempt.redirectUri);
  url.searchParams.set('state', attempt.state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(attempt.codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  // No scopes: a GitHub App's permissions come from its settings; the login needs none.
  return url;
}

/**
 * The callback's code for tokens. `redirectUri` must be the one the authorize step sent (the
 * caller keeps it sealed in the sign-in cookie), and the caller has already checked `state`.
 */
export async function exchangeCode(
  credentials: GitHubAppCredentials,
  grant: { code: string; codeVerifier: string; redirectUri: string },
): Promise<GitHubTokenSet> {
  const as = authorizationServer(credentials);
  const client = { client_id: credentials.clientId };
  // oauth4webapi takes the code only from callback parameters it has validated; the state was
  // checked in constant time by the caller, against the sealed cookie.
  const callback = oauth.validateAuthResponse(
    as,
    client,
    new URLSearchParams({ code: grant.code }),
    oauth.skipStateCheck,
  );
  const response = await send(() =>
    oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(credentials.clientSecret),
      callback,
      grant.redirectUri,
      grant.codeVerifier,
      requestOptions(credentials),
    ),
  );
  return tokenSet(
    await processed(response, 'code', () => oauth.processAuthorizationCodeResponse(as, client, response)),
  );
}

export async function refreshTokens(credentials: GitHubAppCredentials, refreshToken: string): Promise<GitHubTokenSet> {
  const as = authorizationServer(credentials);
  const client = { client_id: credentials.clientId };
  const response = await send(() =>
    oauth.refreshTokenGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(credentials.clientSecret),
      refreshToken,
      requestOptions(credentials),
    ),
  );
  return tokenSet(await processed(response, 'refresh', () => oauth.processRefreshTokenResponse(as, client, response)));
}

export async function fetchProfile(endpoints: GitHubEndpoints, accessToken: string): Promise<GitHubProfile> {
  let response: Response;
  try {
    response = await fetch(`${endpoints.apiUrl}/user`, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        Accept: 'application/vnd.github+json',
        'User-Agent': 'edge-github-gateway',
        'X-GitHub-Api-Version': '2022-11-28',
      },
      signal: AbortSignal.timeout(GITHUB_TIMEOUT_MS),
    });
  } catch {
    throw new GitHubError('github_unreachable', 'GitHub could not be reached to read the profile.');
  }
  if (response.status === 401) throw new GitHubError('bad_credentials', 'GitHub refused the access token.');
  if (!response.ok) throw new GitHubError('github_error', `GitHub answered ${response.status} to the profile request.`);
  // The timeout also covers the body: a GitHub that stops mid-answer is unreachable, not a bug.
  const body = (await response.json().catch(() => {
    throw new GitHubError('github_unreachable', 'GitHub stopped answering the profile request.');
  })) as { id?: unknown; login?: unknown; name?: unknown; avatar_url?: unknown };
  if (typeof body.id !== 'number' || typeof body.login !== 'string') {
    throw new GitHubError('github_error', 'GitHub answered the profile request without an id and login.');
  }
  return {
    id: String(body.id),
    login: body.login,
    name: typeof body.name === 'string' ? body.name : null,
    avatarUrl: typeof body.avatar_url === 'string' ? body.avatar_url : null,
  };
}

function authorizationServer(endpoints: GitHubEndpoints): oauth.AuthorizationServer {
  return {
    issuer: endpoints.oauthUrl,
    authorization_endpoint: `${endpoints.oauthUrl}/login/oauth/authorize`,
    token_endpoint: `${endpoints.oauthUrl}/login/oauth/access_token`,
  };
}

/**
 * Plain http only to a loopback host (the stand-in GitHub); the configuration already refuses
 * http anywhere else, and oauth4webapi refuses it unless told otherwise.
 */
function requestOptions(endpoints: GitHubEndpoints): oauth.TokenEndpointRequestOptions {
  const url = new URL(endpoints.oauthUrl);
  const loopbackHttp = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  const signal = () => AbortSignal.timeout(GITHUB_TIMEOUT_MS);
  return loopbackHttp ? { signal, [oauth.allowInsecureRequests]: true } : { signal };
}

async function send(request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch {
    throw new GitHubError('github_unreachable', 'GitHub could not be reached for the token request.');
  }
}

type Grant = 'code' | 'refresh';

/**
 * GitHub answers many token errors with HTTP 200 and an `error` field, which a standard client
 * would read as a malformed success: those are looked for first. Standard error answers (400
 * `invalid_grant`, 401 `invalid_client`, with or without a WWW-Authenticate challenge) come
 * back from oauth4webapi as errors and are mapped the same way.
 */
async function processed(
  response: Response,
  grant: Grant,
  process: () => Promise<oauth.TokenEndpointResponse>,
): Promise<oauth.TokenEndpointResponse> {
  if (response.status === 200) {
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => null);
    const serverError = errorField(body);
    if (serverError !== null) throw refused(serverError, grant);
  }
  try {
    return await process();
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) throw refused(error.error, grant);
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      const fromBody = errorField(await error.response.json().catch(() => null));
      const fromChallenge = error.cause.map((challenge) => challenge.parameters.error).find((value) => !!value);
      throw refused(fromBody ?? fromChallenge ?? (error.status === 401 ? 'invalid_client' : 'unknown'), grant);
    }
    throw new GitHubError(
      'github_error',
      `GitHub answered the token request with something unexpected (HTTP ${response.status}).`,
    );
  }
}

function errorField(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'string' && error !== '' ? error : null;
}

function tokenSet(tokens: oauth.TokenEndpointResponse): GitHubTokenSet {
  if (tokens.access_token === '') {
    throw new GitHubError('github_error', 'GitHub answered the token request without an access token.');
  }
  return {
    accessToken: tokens.access_token,
    refreshToken: typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '' ? tokens.refresh_token : null,
    accessTokenExpiresAt:
      typeof tokens.expires_in === 'number' ? new Date(Date.now() + tokens.expires_in * 1000) : null,
  };
}

/** GitHub's own codes pass through; the standard OAuth ones (RFC 6749 §5.2) map onto them. */
function refused(serverCode: string, grant: Grant): GitHubError {
  const serverError = /^[a-z_]{1,64}$/.test(serverCode) ? serverCode : 'unrecognized';
  const code = gatewayCode(serverError, grant);
  return new GitHubError(code, `GitHub refused the request (${code}: ${serverError}).`, serverError);
}

function gatewayCode(serverError: string, grant: Grant): GitHubErrorCode {
  switch (serverError) {
    case 'bad_verification_code':
    case 'bad_refresh_token':
    case 'incorrect_client_credentials':
    case 'redirect_uri_mismatch':
      return serverError;
    case 'invalid_grant':
      return grant === 'code' ? 'bad_verification_code' : 'bad_refresh_token';
    case 'invalid_client':
      return 'incorrect_client_credentials';
    default:
      return 'github_error';
  }
}
