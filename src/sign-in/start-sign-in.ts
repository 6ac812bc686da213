import * as z from 'zod';
import { fromBase64Url, randomBytes, toBase64Url } from '../crypto/encoding.ts';
import type { Database } from '../db/client.ts';
import { findServiceByIdentifier } from '../db/services.ts';
import { authorizationUrl, createCodeVerifier, type GitHubAppCredentials } from '../github/client.ts';
import type { Logger } from '../http/logger.ts';
import { sealAttempt } from './attempt.ts';
import { SignInError } from './sign-in-error.ts';

/** What a sign-in link (`/login?...`) may carry: the service that sent the person, where to return them, its state. */
const signInLink = z.object({
  service: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
  redirect_uri: z.string().max(2048).optional(),
  // RFC 6749 Appendix A.5: state is 1*VSCHAR (printable ASCII); it rides in a cookie and a URL.
  state: z
    .string()
    .regex(/^[\x20-\x7e]{1,512}$/)
    .optional(),
  // PKCE for the service's own exchange (RFC 7636): S256 only, a base64url SHA-256 digest.
  code_challenge: z
    .string()
    .refine((value) => fromBase64Url(value)?.length === 32, { error: 'must be base64url of a SHA-256 digest' })
    .optional(),
  code_challenge_method: z.literal('S256').optional(),
});

type SignInLink = z.infer<typeof signInLink>;

export interface StartSignInDeps {
  db: Database;
  github: GitHubAppCredentials;
  /** Seals the attempt cookie. */
  cookieSealing: CryptoKey;
  log: Logger;
}

export interface StartedSignIn {
  /** The attempt cookie's value (sealed: the state, the PKCE verifier, where to go afterwards). */
  sealedAttempt: string;
  /** GitHub's authorize page, for this attempt. */
  authorizeUrl: URL;
}

/**
 * Starts a sign-in: checks what the link asks for (a service it names must be active and the
 * return address one it registered, exactly), then seals a new attempt (state, PKCE verifier) and
 * builds GitHub's authorize URL for it. `githubCallbackUrl` null means the deployment lacks
 * PUBLIC_URL: a configuration error, refused before anything else.
 */
export async function startSignIn(
  deps: StartSignInDeps,
  link: { query: Record<string, string>; githubCallbackUrl: string | null },
  now = Date.now(),
): Promise<StartedSignIn> {
  const githubRedirectUri = link.githubCallbackUrl ?? refuseWithoutCallbackUrl(deps.log);
  const parsed = signInLink.safeParse(link.query);
  if (!parsed.success)
    throw new SignInError('invalid_request', 'The sign-in link is malformed. Go back to the service and try again.');
  const request = parsed.data;
  const codeChallenge = request.code_challenge ?? null;
  const method = request.code_challenge_method;
  if (codeChallenge === null ? method !== undefined : request.service === undefined || method !== 'S256') {
    throw new SignInError(
      'invalid_request',
      'A code_challenge needs code_challenge_method=S256 and the service it belongs to.',
    );
  }
  const serviceId = await returningService(deps.db, request);
  const state = toBase64Url(randomBytes(32));
  const verifier = createCodeVerifier();
  const sealedAttempt = await sealAttempt(
    {
      state,
      verifier,
      githubRedirectUri,
      serviceId,
      redirectUri: request.redirect_uri ?? null,
      serviceState: request.state ?? null,
      codeChallenge,
      retryPath: retryPathOf(request),
      issuedAt: now,
    },
    deps.cookieSealing,
  );
  // Browsers drop a cookie over 4096 bytes, and the callback would find no attempt: refuse now.
  if (sealedAttempt.length > MAX_SEALED_ATTEMPT) {
    throw new SignInError('invalid_request', 'The sign-in link is too long. Go back to the service and try again.');
  }
  const authorizeUrl = await authorizationUrl(deps.github, {
    redirectUri: githubRedirectUri,
    state,
    codeVerifier: verifier,
  });
  return { sealedAttempt, authorizeUrl };
}

/** Room for the cookie's name and attributes within a browser's 4096 bytes. */
const MAX_SEALED_ATTEMPT = 3800;

/**
 * The /login address "Try again" leads to: the link's own fields as they were checked, and
 * nothing else it carried (so nothing unchecked is sealed, and the cookie stays small).
 */
function retryPathOf(request: SignInLink): string {
  const query = new URLSearchParams();
  for (const name of ['service', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method'] as const) {
    const value = request[name];
    if (value !== undefined) query.set(name, value);
  }
  const search = query.toString();
  return search === '' ? '/login' : `/login?${search}`;
}

/** The id of the service the person returns to, or null for the gateway's own sign-in. */
async function returningService(db: Database, request: SignInLink): Promise<string | null> {
  if (request.service === undefined) {
    if (request.redirect_uri !== undefined)
      throw new SignInError('missing_service', 'A return address needs the service it belongs to.');
    return null;
  }
  const service = await findServiceByIdentifier(db, request.service);
  if (!service?.isActive)
    throw new SignInError('unknown_service', 'The service that sent you here is not known to this gateway.');
  // Exact comparison only: no prefix, host or pattern matching, so no open redirect.
  if (request.redirect_uri === undefined || !service.redirectUris.includes(request.redirect_uri)) {
    throw new SignInError(
      'unregistered_redirect_uri',
      'The service asked to send you back to an address it has not registered.',
    );
  }
  return service.id;
}

/**
 * Without PUBLIC_URL the callback URL would follow the request's Host header, which only on
 * loopback is the gateway's own: the operator hears what to set, the person that it is not them.
 */
function refuseWithoutCallbackUrl(log: Logger): never {
  log.error('config.invalid', {
    problems: ['PUBLIC_URL is missing'],
    hint: "Set PUBLIC_URL to the gateway's public origin (https://HOST, as registered in the GitHub App); only a gateway reached on localhost may go without.",
  });
  throw new SignInError(
    'configuration_error',
    'This gateway is not fully set up, so it cannot send you to GitHub. Tell its operator; nothing is wrong with your account.',
    'internal',
  );
}
