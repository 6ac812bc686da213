import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as z from 'zod';
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../crypto/encoding.ts';
import { signSessionToken } from '../crypto/session-tokens.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { createLoginCode } from '../db/login-codes.ts';
import { findServiceByIdentifier } from '../db/services.ts';
import { createSession, listServiceAccess, revokePersonSessions, revokeSession } from '../db/sessions.ts';
import { authorizationUrl, createCodeVerifier, GitHubError } from '../github/client.ts';
import type { AppEnv } from '../http/context.ts';
import { PageError } from '../http/errors.ts';
import { readSmallForm } from '../http/form-body.ts';
import { PAGE_CSP, STYLESHEET } from '../pages/layout.ts';
import { accessPendingPage, landingPage, signedOutPage } from '../pages/pages.ts';
import {
  openAttempt,
  SIGN_IN_COOKIE,
  SIGN_IN_COOKIE_PATH,
  SIGN_IN_TTL_SECONDS,
  sealAttempt,
} from '../signin/attempt.ts';
import { admittedSession, clearSessionCookie, cookieSession, setSessionCookie } from '../signin/browser-session.ts';
import { completeGitHubSignIn } from '../signin/complete-sign-in.ts';
import { gitHubCallbackUrl, gitHubCredentials } from '../signin/github-credentials.ts';
import { forgetSession } from '../verify/cached-lookups.ts';
import { PAGE_ROUTES, STYLESHEET_ROUTE } from './sign-in.routes.ts';

const loginQuery = z.object({
  service: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
  redirect_uri: z.string().max(2048).optional(),
  state: z.string().max(512).optional(),
  // PKCE for the service's own exchange (RFC 7636): S256 only, a base64url SHA-256 digest.
  code_challenge: z
    .string()
    .refine((value) => fromBase64Url(value)?.length === 32, { error: 'must be base64url of a SHA-256 digest' })
    .optional(),
  code_challenge_method: z.literal('S256').optional(),
});

const callbackQuery = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(100).optional(),
});

const signInError = (code: string, message: string, status: 400 | 403 | 502 = 400) =>
  new PageError(status, code, 'Sign-in did not work', message);

/** The pages a person's browser visits: landing, sign in with GitHub, the callback, sign out. */
export const signInRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    // Mounted at '/', this runs for every route: it only adds to HTML answers (no-store comes
    // from the security headers, so the stylesheet and /openapi.json keep their own caching).
    await next();
    if (c.res.headers.get('Content-Type')?.startsWith('text/html')) {
      c.header('Content-Security-Policy', PAGE_CSP);
      // Still no referrer to other sites; but with no-referrer browsers send `Origin: null` on
      // the page's own sign-out POST, which then cannot be told from a cross-site one.
      c.header('Referrer-Policy', 'same-origin');
    }
  })
  .get(PAGE_ROUTES.landing.path, async (c) => {
    const session = await admittedSession(c);
    if (!session) return c.html(landingPage(null));
    const services = await listServiceAccess(c.var.database(), session.user.id, c.var.config.STANDING_ACCESS_SECONDS);
    return c.html(landingPage({ login: session.user.githubLogin, services }));
  })
  .get(STYLESHEET_ROUTE.path, (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(STYLESHEET, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  })
  .get(PAGE_ROUTES.login.path, async (c) => {
    const githubRedirectUri = callbackUrlOrConfigError(c);
    const query = loginQuery.safeParse(c.req.query());
    if (!query.success)
      throw signInError('invalid_request', 'The sign-in link is malformed. Go back to the service and try again.');
    const { service: identifier, redirect_uri: redirectUri, state: serviceState } = query.data;
    const codeChallenge = query.data.code_challenge ?? null;
    const method = query.data.code_challenge_method;
    if (codeChallenge === null ? method !== undefined : identifier === undefined || method !== 'S256') {
      throw signInError(
        'invalid_request',
        'A code_challenge needs code_challenge_method=S256 and the service it belongs to.',
      );
    }
    let serviceId: string | null = null;
    if (identifier !== undefined) {
      const service = await findServiceByIdentifier(c.var.database(), identifier);
      if (!service?.isActive)
        throw signInError('unknown_service', 'The service that sent you here is not known to this gateway.');
      // Exact comparison only: no prefix, host or pattern matching, so no open redirect.
      if (redirectUri === undefined || !service.redirectUris.includes(redirectUri)) {
        throw signInError(
          'unregistered_redirect_uri',
          'The service asked to send you back to an address it has not registered.',
        );
      }
      serviceId = service.id;
    } else if (redirectUri !== undefined) {
      throw signInError('missing_service', 'A return address needs the service it belongs to.');
    }
    const state = toBase64Url(randomBytes(32));
    const verifier = createCodeVerifier();
    const sealed = await sealAttempt(
      {
        state,
        verifier,
        githubRedirectUri,
        serviceId,
        redirectUri: redirectUri ?? null,
        serviceState: serviceState ?? null,
        codeChallenge,
        retryPath: `${PAGE_ROUTES.login.path}${new URL(c.req.url).search}`,
        issuedAt: Date.now(),
      },
      (await c.var.sessionKeys()).cookieSealing,
    );
    setCookie(c, SIGN_IN_COOKIE, sealed, {
      path: SIGN_IN_COOKIE_PATH,
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      maxAge: SIGN_IN_TTL_SECONDS,
    });
    const github = gitHubCredentials(c.var.config);
    const authorize = await authorizationUrl(github, { redirectUri: githubRedirectUri, state, codeVerifier: verifier });
    return c.redirect(authorize.toString(), 302);
  })
  .get(PAGE_ROUTES.callback.path, async (c) => {
    // Anyone can send a browser here (a link, an image), so nothing happens before the state is
    // checked: a request that does not carry this attempt's state cancels nothing, deletes nothing.
    const query = callbackQuery.safeParse(c.req.query());
    if (!query.success) throw signInError('invalid_request', 'GitHub sent back a malformed answer. Start again.');
    const cookie = getCookie(c, SIGN_IN_COOKIE);
    const attempt = cookie ? await openAttempt(cookie, (await c.var.sessionKeys()).cookieOpening) : null;
    if (!attempt) {
      throw signInError(
        'sign_in_expired',
        'This sign-in expired or was started in another browser. Start again from the service.',
      );
    }
    if (!query.data.state || !constantTimeEqual(utf8(query.data.state), utf8(attempt.state))) {
      throw signInError('state_mismatch', 'This answer from GitHub does not belong to your sign-in. Start again.');
    }
    // GitHub's answer to this very attempt: it ends here, whatever the answer.
    deleteCookie(c, SIGN_IN_COOKIE, { path: SIGN_IN_COOKIE_PATH, httpOnly: true, secure: true, sameSite: 'Lax' });
    if (query.data.error)
      throw signInError('github_denied', 'GitHub did not sign you in (you may have cancelled). Start again.');
    if (!query.data.code) throw signInError('invalid_request', 'GitHub sent back no code. Start again.');

    const db = c.var.database();
    const user = await completeGitHubSignIn(
      { db, keyring: await c.var.tokenKeyring(), github: gitHubCredentials(c.var.config) },
      // Exactly the redirect_uri the authorize step sent, never rebuilt from this request.
      { code: query.data.code, codeVerifier: attempt.verifier, redirectUri: attempt.githubRedirectUri },
    ).catch((error: unknown) => {
      if (!(error instanceof GitHubError)) throw error;
      c.var.log.warn('sign_in.github_refused', { code: error.code, serverError: error.serverError });
      const unreachable = error.code === 'github_unreachable' || error.code === 'github_error';
      throw signInError(
        `github_${error.code}`,
        'GitHub did not accept this sign-in. Start again.',
        unreachable ? 502 : 400,
      );
    });
    if (!user.isWhitelisted)
      return c.html(accessPendingPage(user.githubLogin ?? 'your account', attempt.retryPath), 403);

    if (attempt.serviceId && attempt.redirectUri) {
      const code = await createLoginCode(db, {
        serviceId: attempt.serviceId,
        userId: user.id,
        redirectUri: attempt.redirectUri,
        codeChallenge: attempt.codeChallenge,
      });
      const target = new URL(attempt.redirectUri);
      target.searchParams.set('code', code);
      if (attempt.serviceState !== null) target.searchParams.set('state', attempt.serviceState);
      return c.redirect(target.toString(), 302);
    }
    const ttl = c.var.config.SESSION_TTL_SECONDS;
    const session = await createSession(db, { userId: user.id, serviceId: null, ttlSeconds: ttl });
    setSessionCookie(
      c,
      await signSessionToken(
        { sessionId: session.id, expiresAt: session.expiresAt },
        (await c.var.sessionKeys()).tokenSigning,
      ),
      ttl,
    );
    return c.redirect('/', 302);
  })
  .post(PAGE_ROUTES.logout.path, async (c) => {
    // A cross-site form could post here; SameSite=Lax keeps the cookie off such a request, and a
    // foreign Origin is refused outright.
    if (!isSameOriginRequest(c.req.header('Sec-Fetch-Site'), c.req.header('Origin'), c.req.url))
      throw new PageError(403, 'cross_site', 'Not signed out', 'Sign out from the gateway’s own page.');
    const form = await readSmallForm(c);
    // The cookie's own session, whitelisted or not: un-whitelisting someone must not stop their
    // sign-out from ending what they hold (docs/security.md, incident sequence).
    const session = await cookieSession(c);
    const db = c.var.database();
    // "Sign out of <service>": every session of this person's at that service, live or expired
    // (which also ends its standing access), then back to the list.
    const service = form.get('service');
    if (service !== null) {
      if (session && UUID_PATTERN.test(service)) {
        const revoked = await revokePersonSessions(db, session.user.id, { serviceId: service });
        for (const { id } of revoked) forgetSession(id);
      }
      return c.redirect('/', 303);
    }
    let servicesSignedOut = 0;
    if (session && form.get('everywhere') === '1') {
      // Every session of this person's, live or expired: at every service, and here. The count is
      // of what the landing listed: the services that still had access.
      const standing = c.var.config.STANDING_ACCESS_SECONDS;
      servicesSignedOut = (await listServiceAccess(db, session.user.id, standing)).length;
      const revoked = await revokePersonSessions(db, session.user.id, 'all');
      for (const { id } of revoked) forgetSession(id);
    } else if (session) {
      await revokeSession(db, session.id, null);
      forgetSession(session.id);
    }
    clearSessionCookie(c);
    return c.html(signedOutPage(servicesSignedOut));
  });

/**
 * The redirect_uri for GitHub, or a configuration error: without PUBLIC_URL the callback URL
 * would follow the request's Host header, which only on loopback is the gateway's own.
 */
function callbackUrlOrConfigError(c: Context<AppEnv>): string {
  const url = gitHubCallbackUrl(c.var.config, c.req.url);
  if (url !== null) return url;
  c.var.log.error('config.invalid', {
    problems: ['PUBLIC_URL is missing'],
    hint: "Set PUBLIC_URL to the gateway's public origin (https://HOST, as registered in the GitHub App); only a gateway reached on localhost may go without.",
  });
  throw new PageError(
    500,
    'configuration_error',
    'Sign-in is not available',
    'This gateway is not fully set up, so it cannot send you to GitHub. Tell its operator; nothing is wrong with your account.',
  );
}

/**
 * Whether a state-changing request comes from the gateway's own pages. Browsers that send
 * Sec-Fetch-Site say so directly; for older ones the Origin must be this origin (or absent, as
 * from a non-browser client, which carries no cookie a forgery could ride on).
 */
function isSameOriginRequest(fetchSite: string | undefined, origin: string | undefined, url: string): boolean {
  if (fetchSite !== undefined) return fetchSite === 'same-origin' || fetchSite === 'none';
  return origin === undefined || origin === new URL(url).origin;
}
