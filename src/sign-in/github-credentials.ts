import type { Config } from '../config.ts';
import type { GitHubAppCredentials } from '../github/client.ts';
import { isLoopbackHost } from '../validation/loopback.ts';

/** The GitHub App's settings: its id and secret, and where GitHub is. */
export function gitHubCredentials(config: Config): GitHubAppCredentials {
  return {
    clientId: config.GITHUB_CLIENT_ID,
    clientSecret: config.GITHUB_CLIENT_SECRET,
    oauthUrl: config.GITHUB_OAUTH_URL,
    apiUrl: config.GITHUB_API_URL,
  };
}

export const CALLBACK_PATH = '/auth/github/callback';

/**
 * The GitHub callback URL (the OAuth redirect_uri) on the gateway's public origin. It comes from
 * PUBLIC_URL; only on loopback (`npm run dev`, where the port is the developer's) may it follow
 * the request, because anywhere else the Host header is the client's to choose. Null means the
 * deployment lacks PUBLIC_URL: a configuration error.
 */
export function gitHubCallbackUrl(config: Config, requestUrl: string): string | null {
  if (config.PUBLIC_URL !== undefined) return `${config.PUBLIC_URL}${CALLBACK_PATH}`;
  const request = new URL(requestUrl);
  return isLoopbackHost(request.hostname) ? `${request.origin}${CALLBACK_PATH}` : null;
}

/**
 * The gateway's issuer identifier, sent as `iss` on every return to a service (RFC 9207, so a
 * service that signs people in through more than one gateway can tell which one answered):
 * PUBLIC_URL, or on loopback the request's origin; as for the callback URL, never a Host header
 * elsewhere (null: no sign-in can have started, /login refused it).
 */
export function gatewayIssuer(config: Config, requestUrl: string): string | null {
  return gitHubCallbackUrl(config, requestUrl)?.slice(0, -CALLBACK_PATH.length) ?? null;
}
