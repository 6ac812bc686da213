import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { browserOrigin } from '../changes/http-origin.ts';
import type { AppEnv } from '../http/context.ts';
import { readSmallForm } from '../http/form-body.ts';
import { isSameOriginRequest } from '../http/same-origin.ts';
import { brandingOf } from '../pages/branding.ts';
import { accessPendingPage, signedOutPage } from '../pages/pages.ts';
import { SIGN_IN_COOKIE, SIGN_IN_TTL_SECONDS } from '../sign-in/attempt.ts';
import { clearSessionCookie, cookieSession, setSessionCookie } from '../sign-in/browser-session.ts';
import { GATEWAY_COOKIE } from '../sign-in/cookie-options.ts';
import { checkSignInAnswer, finishSignIn } from '../sign-in/finish-sign-in.ts';
import { gitHubCallbackUrl, gitHubCredentials } from '../sign-in/github-credentials.ts';
import { SignInError } from '../sign-in/sign-in-error.ts';
import { signOut } from '../sign-in/sign-out.ts';
import { startSignIn } from '../sign-in/start-sign-in.ts';
import { landing } from './landing.ts';
import { pageErrorHandler } from './page-errors.ts';
import { PAGE_ROUTES } from './sign-in.routes.ts';

/**
 * The pages a person's browser visits: landing, sign in with GitHub, the callback, sign out. Their
 * errors are HTML pages (`pageErrorHandler`), never JSON.
 */
export const signInRoutes = new Hono<AppEnv>()
  .get(PAGE_ROUTES.landing.path, landing)
  .get(PAGE_ROUTES.login.path, async (c) => {
    const { config } = c.var;
    const started = await startSignIn(
      {
        db: c.var.database(),
        github: gitHubCredentials(config),
        cookieSealing: (await c.var.sessionKeys()).cookieSealing,
        log: c.var.log,
      },
      {
        query: c.req.query(),
        githubCallbackUrl: gitHubCallbackUrl(config, c.req.url),
        retryPath: `${PAGE_ROUTES.login.path}${new URL(c.req.url).search}`,
      },
    );
    setCookie(c, SIGN_IN_COOKIE, started.sealedAttempt, { ...GATEWAY_COOKIE, maxAge: SIGN_IN_TTL_SECONDS });
    return c.redirect(started.authorizeUrl.toString(), 302);
  })
  .get(PAGE_ROUTES.callback.path, async (c) => {
    const keys = await c.var.sessionKeys();
    const checked = await checkSignInAnswer(
      { query: c.req.query(), attemptCookie: getCookie(c, SIGN_IN_COOKIE) },
      keys.cookieOpening,
    );
    // GitHub's answer to this very attempt: it ends here, whatever the answer.
    deleteCookie(c, SIGN_IN_COOKIE, GATEWAY_COOKIE);
    const { config } = c.var;
    const finished = await finishSignIn(
      {
        db: c.var.database(),
        keyring: c.var.tokenKeyring,
        github: gitHubCredentials(config),
        log: c.var.log,
        tokenSigning: keys.tokenSigning,
        sessionTtlSeconds: config.SESSION_TTL_SECONDS,
        origin: (userId) => browserOrigin(c, userId),
      },
      checked,
    );
    switch (finished.kind) {
      case 'access_pending':
        return c.html(
          accessPendingPage(brandingOf(c.var.config), {
            login: finished.login ?? 'your account',
            retryPath: finished.retryPath,
            service: null,
          }),
          403,
        );
      case 'to_service':
        return c.redirect(finished.location, 302);
      case 'signed_in':
        setSessionCookie(c, finished.sessionToken, finished.ttlSeconds);
        return c.redirect('/', 302);
    }
  })
  .post(PAGE_ROUTES.logout.path, async (c) => {
    // A cross-site form could post here; SameSite=Lax keeps the cookie off such a request, and a
    // foreign Origin is refused outright.
    if (!isSameOriginRequest(c.req.header('Sec-Fetch-Site'), c.req.header('Origin'), c.req.url))
      throw new SignInError('cross_site', 'Sign out from the gateway’s own page.', 'forbidden');
    const form = await readSmallForm(c);
    const signedOut = await signOut(
      {
        db: c.var.database(),
        standingAccessSeconds: c.var.config.STANDING_ACCESS_SECONDS,
        origin: (userId) => browserOrigin(c, userId),
      },
      await cookieSession(c),
      { service: form.get('service'), everywhere: form.get('everywhere') === '1' },
    );
    if (signedOut.kind === 'left_service') return c.redirect('/', 303);
    clearSessionCookie(c);
    return c.html(signedOutPage(brandingOf(c.var.config), signedOut.servicesSignedOut));
  })
  .onError(pageErrorHandler);
