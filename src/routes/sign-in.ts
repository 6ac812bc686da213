import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { membershipBounds } from '../admission/bounds.ts';
import { browserOrigin } from '../changes/http-origin.ts';
import { findServiceById } from '../db/services.ts';
import { deliverAfterResponse } from '../events/start-delivery.ts';
import type { AppEnv } from '../http/context.ts';
import { readSmallForm } from '../http/form-body.ts';
import { isSameOriginRequest } from '../http/same-origin.ts';
import { brandingOf } from '../pages/branding.ts';
import { accessPendingPage, signedOutPage } from '../pages/pages.ts';
import { SIGN_IN_COOKIE, SIGN_IN_TTL_SECONDS } from '../sign-in/attempt.ts';
import { clearSessionCookie, cookieSession, setSessionCookie } from '../sign-in/browser-session.ts';
import { GATEWAY_COOKIE } from '../sign-in/cookie-options.ts';
import { checkSignInAnswer, finishSignIn } from '../sign-in/finish-sign-in.ts';
import { gatewayIssuer, gitHubCallbackUrl, gitHubCredentials } from '../sign-in/github-credentials.ts';
import { decidePending, openPending, PENDING_COOKIE, PENDING_TTL_SECONDS, sealPending } from '../sign-in/pending.ts';
import { failureReturn, refusalFailure } from '../sign-in/service-return.ts';
import { SignInError } from '../sign-in/sign-in-error.ts';
import { signOut } from '../sign-in/sign-out.ts';
import {
  openSignedOut,
  SIGNED_OUT_COOKIE,
  SIGNED_OUT_TTL_SECONDS,
  sealSignedOut,
} from '../sign-in/signed-out-flash.ts';
import { startSignIn } from '../sign-in/start-sign-in.ts';
import { landing } from './landing.ts';
import { pageErrorHandler } from './page-errors.ts';
import { PAGE_ROUTES } from './sign-in.routes.ts';
import { failedSignInReturn, pendingExpired, replayedCallback, serviceReturnOf } from './sign-in-outcomes.ts';

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
    ).catch((error: unknown) => replayedCallback(c, error));
    if (checked instanceof Response) return checked;
    // GitHub's answer to this very attempt: it ends here, whatever the answer.
    deleteCookie(c, SIGN_IN_COOKIE, GATEWAY_COOKIE);
    const { config } = c.var;
    const { attempt } = checked;
    const toService = serviceReturnOf(attempt, gatewayIssuer(config, c.req.url));
    const finished = await finishSignIn(
      {
        db: c.var.database(),
        keyring: c.var.tokenKeyring,
        github: gitHubCredentials(config),
        log: c.var.log,
        tokenSigning: keys.tokenSigning,
        sessionTtlSeconds: config.SESSION_TTL_SECONDS,
        origin: (userId) => browserOrigin(c, userId),
        issuer: toService?.issuer ?? null,
      },
      checked,
    ).catch(async (error: unknown) => {
      // A sign-in a service started goes back to it, whatever went wrong (RFC 6749 section 4.1.2.1),
      // unless the service stopped taking that address since /login checked it.
      if (!toService || !(await stillTakes(c, attempt))) throw error;
      return { kind: 'failed' as const, location: failedSignInReturn(c, toService, error, checked.answer.error) };
    });
    switch (finished.kind) {
      case 'failed':
        return c.redirect(finished.location, 302);
      case 'access_pending': {
        // A page of its own, so that a reload asks again instead of replaying this callback.
        const pending = await sealPending(
          {
            userId: finished.userId,
            login: finished.login,
            serviceId: attempt.serviceId,
            redirectUri: attempt.redirectUri,
            serviceState: attempt.serviceState,
            retryPath: attempt.retryPath,
            issuedAt: Date.now(),
          },
          keys.cookieSealing,
        );
        setCookie(c, PENDING_COOKIE, pending, { ...GATEWAY_COOKIE, maxAge: PENDING_TTL_SECONDS });
        return c.redirect(PAGE_ROUTES.pending.path, 303);
      }
      case 'to_service':
        // Admitted: an earlier pending sign-in of this browser's has nothing left to ask.
        if (getCookie(c, PENDING_COOKIE)) deleteCookie(c, PENDING_COOKIE, GATEWAY_COOKIE);
        return c.redirect(finished.location, 302);
      case 'signed_in':
        // A new sign-in: an earlier pending one and an earlier sign-out's page are over.
        for (const name of [PENDING_COOKIE, SIGNED_OUT_COOKIE])
          if (getCookie(c, name)) deleteCookie(c, name, GATEWAY_COOKIE);
        setSessionCookie(c, finished.sessionToken, finished.ttlSeconds);
        return c.redirect('/', 302);
    }
  })
  .get(PAGE_ROUTES.pending.path, async (c) => {
    const { config } = c.var;
    const keys = await c.var.sessionKeys();
    const cookie = getCookie(c, PENDING_COOKIE);
    const pending = cookie ? await openPending(cookie, keys.cookieOpening) : null;
    if (!pending) throw pendingExpired();
    const db = c.var.database();
    const decision = await decidePending(
      {
        db,
        keyring: c.var.tokenKeyring,
        github: gitHubCredentials(config),
        log: c.var.log,
        membership: membershipBounds(config),
        // The page does not wait for a service: what a re-check here ends is sent after the response.
        deliver: async (eventIds) => deliverAfterResponse(c, eventIds),
      },
      pending,
    );
    if (!decision) {
      deleteCookie(c, PENDING_COOKIE, GATEWAY_COOKIE);
      throw pendingExpired();
    }
    if (decision.admitted) {
      // Let in since: continue with a new sign-in from the same link (it grants nothing itself).
      deleteCookie(c, PENDING_COOKIE, GATEWAY_COOKIE);
      return c.redirect(pending.retryPath, 303);
    }
    const toService = serviceReturnOf(pending, gatewayIssuer(config, c.req.url));
    const found = toService && pending.serviceId ? await findServiceById(db, pending.serviceId) : null;
    // The back link only while the service still takes that address (an hour may have passed).
    const service = found && takesReturnAddress(found, pending.redirectUri) ? found : null;
    return c.html(
      accessPendingPage(brandingOf(c.var.config), {
        login: pending.login ?? 'your account',
        retryPath: pending.retryPath,
        service:
          toService && service
            ? { name: service.displayName, backUrl: failureReturn(toService, refusalFailure(decision.code)) }
            : null,
      }),
      403,
    );
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
        deliver: (eventIds) => deliverAfterResponse(c, eventIds),
      },
      await cookieSession(c),
      { service: form.get('service'), everywhere: form.get('everywhere') === '1' },
    );
    // POST, then 303 to a page (GET): a reload shows that page, it does not sign out again.
    if (signedOut.kind === 'left_service') {
      const query = signedOut.serviceId ? `?signed_out_of=${encodeURIComponent(signedOut.serviceId)}` : '';
      return c.redirect(`${PAGE_ROUTES.landing.path}${query}`, 303);
    }
    clearSessionCookie(c);
    // Nothing of this browser's sign-ins stays for the next person at it (a shared computer).
    for (const name of [PENDING_COOKIE, SIGN_IN_COOKIE]) if (getCookie(c, name)) deleteCookie(c, name, GATEWAY_COOKIE);
    const flash = await sealSignedOut(
      { servicesSignedOut: signedOut.servicesSignedOut, issuedAt: Date.now() },
      (await c.var.sessionKeys()).cookieSealing,
    );
    setCookie(c, SIGNED_OUT_COOKIE, flash, { ...GATEWAY_COOKIE, maxAge: SIGNED_OUT_TTL_SECONDS });
    return c.redirect(PAGE_ROUTES.signedOut.path, 303);
  })
  .get(PAGE_ROUTES.signedOut.path, async (c) => {
    const cookie = getCookie(c, SIGNED_OUT_COOKIE);
    const flash = cookie ? await openSignedOut(cookie, (await c.var.sessionKeys()).cookieOpening) : null;
    // Only a sign-out this browser just made shows the page: a link cannot claim one.
    if (!flash) return c.redirect(PAGE_ROUTES.landing.path, 303);
    return c.html(signedOutPage(brandingOf(c.var.config), flash.servicesSignedOut));
  })
  .onError(pageErrorHandler);

/** Whether a service is active and still registers this return address. */
function takesReturnAddress(
  service: { isActive: boolean; redirectUris: string[] },
  redirectUri: string | null,
): boolean {
  return service.isActive && redirectUri !== null && service.redirectUris.includes(redirectUri);
}

/**
 * Whether the attempt's service still takes its sealed return address. A database that cannot
 * say (the failure being redirected may be its outage) leaves the address /login checked minutes ago.
 */
async function stillTakes(
  c: Context<AppEnv>,
  attempt: { serviceId: string | null; redirectUri: string | null },
): Promise<boolean> {
  if (attempt.serviceId === null) return false;
  const serviceId = attempt.serviceId;
  const service = await findServiceById(c.var.database(), serviceId).catch(() => undefined);
  return service === undefined || (service !== null && takesReturnAddress(service, attempt.redirectUri));
}
