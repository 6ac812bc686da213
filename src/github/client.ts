import { CodeChallengeMethod, generateCodeVerifier, OAuth2Client, type OAuth2Tokens } from 'arctic';
import { CodedError } from '../errors/coded-error.ts';

/**
 * GitHub as an OAuth 2.0 provider (authorization code + PKCE S256) and as an API, with every
 * endpoint from configuration: github.com by default, a GitHub Enterprise Server, or the local
 * stand-in. arctic's generic OAuth2Client is used because its GitHub class hard-codes github.com
 * and sends no PKCE.
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
  /** The gateway's callback URL, registered in the GitHub App. */
  redirectUri: string;
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

/** What went wrong talking to GitHub; carries GitHub's error code, never a token. */
export class GitHubError extends CodedError<GitHubErrorCode> {
  override name = 'GitHubError';
}

export function createCodeVerifier(): string {
  return generateCodeVerifier();
}

export function authorizationUrl(credentials: GitHubAppCredentials, state: string, codeVerifier: string): URL {
  // No scopes: a GitHub App's permissions come from its settings; the login needs none.
  return client(credentials).createAuthorizationURLWithPKCE(
    `${credentials.oauthUrl}/login/oauth/authorize`,
    state,
    CodeChallengeMethod.S256,
    codeVerifier,
    [],
  );
}

export async function exchangeCode(
  credentials: GitHubAppCredentials,
  code: string,
  codeVerifier: string,
): Promise<GitHubTokenSet> {
  return tokenSet(
    await request(() => client(credentials).validateAuthorizationCode(tokenUrl(credentials), code, codeVerifier)),
  );
}

export async function refreshTokens(credentials: GitHubAppCredentials, refreshToken: string): Promise<GitHubTokenSet> {
  return tokenSet(await request(() => client(credentials).refreshAccessToken(tokenUrl(credentials), refreshToken, [])));
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
    });
  } catch {
    throw new GitHubError('github_unreachable', 'GitHub could not be reached to read the profile.');
  }
  if (response.status === 401) throw new GitHubError('bad_credentials', 'GitHub refused the access token.');
  if (!response.ok) throw new GitHubError('github_error', `GitHub answered ${response.status} to the profile request.`);
  const body = (await response.json()) as { id?: unknown; login?: unknown; name?: unknown; avatar_url?: unknown };
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

function client(credentials: GitHubAppCredentials): OAuth2Client {
  return new OAuth2Client(credentials.clientId, credentials.clientSecret, credentials.redirectUri);
}

function tokenUrl(endpoints: GitHubEndpoints): string {
  return `${endpoints.oauthUrl}/login/oauth/access_token`;
}

async function request(send: () => Promise<OAuth2Tokens>): Promise<OAuth2Tokens> {
  try {
    return await send();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') throw asGitHubError(code);
    throw new GitHubError('github_unreachable', 'GitHub could not be reached, or answered something unexpected.');
  }
}

/** GitHub answers many token errors with 200 and an `error` field: those are errors too. */
function tokenSet(tokens: OAuth2Tokens): GitHubTokenSet {
  const data = tokens.data as {
    error?: unknown;
    access_token?: unknown;
    refresh_token?: unknown;
    expires_in?: unknown;
  };
  if (typeof data.error === 'string') throw asGitHubError(data.error);
  if (typeof data.access_token !== 'string' || data.access_token === '') {
    throw new GitHubError('github_error', 'GitHub answered the token request without an access token.');
  }
  return {
    accessToken: data.access_token,
    refreshToken: typeof data.refresh_token === 'string' ? data.refresh_token : null,
    accessTokenExpiresAt: typeof data.expires_in === 'number' ? new Date(Date.now() + data.expires_in * 1000) : null,
  };
}

const KNOWN: GitHubErrorCode[] = [
  'bad_verification_code',
  'bad_refresh_token',
  'incorrect_client_credentials',
  'redirect_uri_mismatch',
];

function asGitHubError(code: string): GitHubError {
  const known = KNOWN.find((candidate) => candidate === code);
  return new GitHubError(known ?? 'github_error', `GitHub refused the request (${known ?? 'other error'}).`);
}
