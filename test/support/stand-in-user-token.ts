import { pickStandInUser } from '../../scripts/lib/dev/stand-in-github-picker.ts';

/**
 * A person signs in at the stand-in GitHub through the OAuth flow (authorize, pick the person,
 * exchange the code) and gets a user token, as the gateway would. Web APIs only: the Node and
 * the Worker tests both use it.
 */
export async function standInUserToken(options: {
  githubUrl: string;
  login: string;
  app: { clientId: string; clientSecret: string };
  callbackUrl: string;
}): Promise<string> {
  const authorize = new URL(`${options.githubUrl}/login/oauth/authorize`);
  authorize.searchParams.set('client_id', options.app.clientId);
  authorize.searchParams.set('redirect_uri', options.callbackUrl);
  authorize.searchParams.set('state', 'test');
  const redirect = await pickStandInUser(authorize, options.login);
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code') ?? '';
  const response = await fetch(`${options.githubUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { Accept: 'application/json' },
    body: new URLSearchParams({
      client_id: options.app.clientId,
      client_secret: options.app.clientSecret,
      code,
      redirect_uri: options.callbackUrl,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
