import type { GatewayClient, SignInFailure } from './client.ts';
import { GatewayClientError } from './errors.ts';
import type { Person, Verdict } from './types.ts';

/** Where the service keeps things in the person's browser, and where the routes are. */
export interface SessionOptions {
  /** The cookie holding the gateway session token (default `__Host-gateway_session` over https, else `gateway_session`). */
  sessionCookie?: string;
}

export interface SignInRoutesOptions extends SessionOptions {
  /** The redirect URI registered for the service: the callback route's full address. */
  redirectUri: string;
  /** The cookie holding the sign-in's state and PKCE verifier for ten minutes (default `__Host-gateway_sign_in` over https, else `gateway_sign_in`). */
  signInCookie?: string;
  /** Where a signed-in person goes after the callback (default `/`). */
  afterSignIn?: string;
  /** The answer to a sign-in that did not end with a session (default: a 401 text page naming the code). */
  onFailure?: (failure: SignInFailure | GatewayClientError, request: Request) => Response | Promise<Response>;
}

export interface HandlerOptions extends SignInRoutesOptions {
  /** The path that starts a sign-in (default `/auth/login`). */
  loginPath?: string;
}

const DEFAULT_SESSION_COOKIE = 'gateway_session';
const DEFAULT_SIGN_IN_COOKIE = 'gateway_sign_in';

/**
 * A cookie's name: the one configured, else the default with the `__Host-` prefix over https, so
 * a sibling subdomain cannot plant one (a planted state and verifier would sign the browser in
 * as someone else).
 */
function cookieName(request: Request, configured: string | undefined, fallback: string): string {
  if (configured !== undefined) return configured;
  return new URL(request.url).protocol === 'https:' ? `__Host-${fallback}` : fallback;
}
/** The gateway's own sign-in lasts ten minutes: the state and verifier are worth no more. */
/**
 * As long as the gateway's pending page (an hour): a person refused, then let in, continues from
 * there with this same sign-in (its state and PKCE challenge), which needs this cookie still.
 */
const SIGN_IN_COOKIE_SECONDS = 3600;

/** The session token a request carries: `Authorization: Bearer gws_…`, else the session cookie. */
export function sessionOf(request: Request, options: SessionOptions = {}): string | null {
  const authorization = request.headers.get('authorization');
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (bearer !== undefined) return bearer;
  return cookieOf(request, cookieName(request, options.sessionCookie, DEFAULT_SESSION_COOKIE));
}

/** Verifies the request's session: the verdict when valid, else a 401 JSON answer with the reason. */
export async function authenticate(
  client: GatewayClient,
  request: Request,
  options: SessionOptions = {},
): Promise<Verdict | Response> {
  const session = sessionOf(request, options);
  if (session === null) return unauthorized('missing_session', 'Sign in first.');
  const verdict = await client.verify({ session });
  if (!verdict.valid || verdict.user === null) return unauthorized(verdict.code, 'Sign in again.');
  return verdict;
}

/** The start of a sign-in: a redirect to the gateway, its state and verifier kept in a cookie. */
export async function startSignIn(
  client: GatewayClient,
  request: Request,
  options: SignInRoutesOptions,
): Promise<Response> {
  const link = await client.signInLink({ redirectUri: options.redirectUri });
  const cookie = setCookie(
    request,
    cookieName(request, options.signInCookie, DEFAULT_SIGN_IN_COOKIE),
    `${link.state}.${link.codeVerifier}`,
    {
      maxAge: SIGN_IN_COOKIE_SECONDS,
    },
  );
  return new Response(null, {
    status: 302,
    headers: { Location: link.url, 'Set-Cookie': cookie, 'Cache-Control': 'no-store' },
  });
}

/** The callback route: checks the state, exchanges the code, keeps the session in a cookie. */
export async function finishSignIn(
  client: GatewayClient,
  request: Request,
  options: SignInRoutesOptions,
): Promise<Response> {
  const signInCookie = cookieName(request, options.signInCookie, DEFAULT_SIGN_IN_COOKIE);
  const [state = '', codeVerifier = ''] = (cookieOf(request, signInCookie) ?? '').split('.');
  const ended = setCookie(request, signInCookie, '', { maxAge: 0 });
  let outcome: Awaited<ReturnType<GatewayClient['handleCallback']>> | GatewayClientError;
  try {
    outcome = await client.handleCallback(request.url, { state, codeVerifier, redirectUri: options.redirectUri });
  } catch (error) {
    if (!(error instanceof GatewayClientError)) throw error;
    outcome = error;
  }
  if (outcome instanceof GatewayClientError || !outcome.ok) {
    const answer = await (options.onFailure ?? defaultFailure)(outcome, request);
    const headers = new Headers(answer.headers);
    // A refusal of this very sign-in (its state checked) keeps the cookie: once let in, the
    // gateway's pending page continues the same sign-in. Anything else ends it.
    const refusedHere = !(outcome instanceof GatewayClientError) && outcome.reason === 'refused';
    if (!refusedHere) headers.append('Set-Cookie', ended);
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers });
  }
  const headers = new Headers({ Location: options.afterSignIn ?? '/', 'Cache-Control': 'no-store' });
  headers.append('Set-Cookie', ended);
  headers.append(
    'Set-Cookie',
    setCookie(request, cookieName(request, options.sessionCookie, DEFAULT_SESSION_COOKIE), outcome.session.token, {
      expires: new Date(outcome.session.expires_at),
    }),
  );
  return new Response(null, { status: 303, headers });
}

/**
 * One handler for any framework that speaks Request and Response (Workers, Deno, Bun, Node's
 * adapters): the login path and the callback answer themselves; any other request answers the
 * signed-in Person, or a 401 Response.
 */
export function createGatewayHandler(
  client: GatewayClient,
  options: HandlerOptions,
): (request: Request) => Promise<Response | Person> {
  const loginPath = options.loginPath ?? '/auth/login';
  const callbackPath = new URL(options.redirectUri).pathname;
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === 'GET' && path === loginPath) return startSignIn(client, request, options);
    if (request.method === 'GET' && path === callbackPath) return finishSignIn(client, request, options);
    const verdict = await authenticate(client, request, options);
    return verdict instanceof Response ? verdict : (verdict.user as Person);
  };
}

function defaultFailure(failure: SignInFailure | GatewayClientError): Response {
  const code =
    failure instanceof GatewayClientError
      ? failure.code
      : failure.reason === 'refused'
        ? (failure.gatewayError ?? failure.error)
        : failure.reason;
  return new Response(`The sign-in did not complete (${code}). Start again to sign in.\n`, {
    status: 401,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

function unauthorized(code: string, message: string): Response {
  return Response.json(
    { error: { code, message } },
    { status: 401, headers: { 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' } },
  );
}

function cookieOf(request: Request, name: string): string | null {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return null;
}

/** HttpOnly, SameSite=Lax (the gateway's redirect back is a top-level GET), Secure over https. */
function setCookie(request: Request, name: string, value: string, life: { maxAge?: number; expires?: Date }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (new URL(request.url).protocol === 'https:') parts.push('Secure');
  if (life.maxAge !== undefined) parts.push(`Max-Age=${life.maxAge}`);
  if (life.expires !== undefined) parts.push(`Expires=${life.expires.toUTCString()}`);
  return parts.join('; ');
}
