import type { Config } from '../config.ts';
import type { GitHubAppCredentials } from '../github/client.ts';

/** The GitHub App's settings, with the callback URL on the gateway's public origin. */
export function gitHubCredentials(config: Config, requestUrl: string): GitHubAppCredentials {
  const origin = config.PUBLIC_URL ?? new URL(requestUrl).origin;
  return {
    clientId: config.GITHUB_CLIENT_ID,
    clientSecret: config.GITHUB_CLIENT_SECRET,
    oauthUrl: config.GITHUB_OAUTH_URL,
    apiUrl: config.GITHUB_API_URL,
    redirectUri: `${origin}/auth/github/callback`,
  };
}
