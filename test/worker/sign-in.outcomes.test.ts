import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SIGN_IN_COOKIE } from '../../src/sign-in/attempt.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { PENDING_COOKIE } from '../../src/sign-in/pending.ts';
import { SIGNED_OUT_COOKIE } from '../../src/sign-in/signed-out-flash.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { gatewayCookie, postSignOut, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callbackAnswer,
  cookiesOf,
  pendingPage,
  setCookieHeader,
  startSignIn,
  uniqueLogin,
} from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * Where each outcome of a sign-in leaves the person: a sign-in a service started goes back to its
 * registered return address on every outcome after the attempt's state is checked (RFC 6749
 * section 4.1.2.1, with `iss` of RFC 9207); the pending page is a page of its own; reloads and
 * sign-outs land on pages that a reload does not replay.
 */
let database: TestDatabase;
let service: RegisteredService;
const ISSUER = 'https://gateway.test';
const serviceQuery = (state = 'service-state-1') =>
  `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}&state=${state}`;

beforeAll(async () => {
  database = await createTestDatabase();
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
});

/** The service's return address the response sends the browser to, with its query. */
function backAtService(response: Response): { address: string; query: Record<string, string> } {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  return { address: `${location.origin}${location.pathname}`, query: Object.fromEntries(location.searchParams) };
}

/** GitHub's callback for a started attempt, as GitHub sends it when the person cancels. */
function cancelledAtGitHub(started: { authorizeUrl: URL }): URL {
  const back = new URL('https://gateway.test/auth/github/callback?error=access_denied');
  back.searchParams.set('error_description', 'The user has denied your application access.');
  back.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
  return back;
}

/** A person's sign-in through the service up to the callback's own answer (with `atCallback` there). */
async function callbackFor(login: string, atCallback = database.env) {
  const started = await startSignIn(database.env, serviceQuery());
  const back = await authorizeAtGitHub(started.authorizeUrl, login);
  return callbackAnswer(atCallback, back, started.cookie);
}

describe('a sign-in a service started, on every outcome that is not success, goes back to the service', () => {
  it('cancelled at GitHub: error=access_denied, gateway_error=github_denied, the service state and iss', async () => {
    const started = await startSignIn(database.env, serviceQuery('cancel-state'));
    const response = await callbackAnswer(database.env, cancelledAtGitHub(started), started.cookie);
    const back = backAtService(response);
    expect(back.address).toBe(SERVICE_REDIRECT);
    expect(back.query).toEqual({
      error: 'access_denied',
      error_description: 'You cancelled the sign-in at GitHub. Start again to sign in.',
      gateway_error: 'github_denied',
      state: 'cancel-state',
      iss: ISSUER,
    });
    expect(setCookieHeader(response, SIGN_IN_COOKIE)).toMatch(/Max-Age=0/);
  });

  it('another error GitHub sends for this attempt: error=server_error, gateway_error=github_denied', async () => {
    const started = await startSignIn(database.env, serviceQuery());
    const back = cancelledAtGitHub(started);
    back.searchParams.set('error', 'application_suspended');
    const query = backAtService(await callbackAnswer(database.env, back, started.cookie)).query;
    expect(query).toMatchObject({ error: 'server_error', gateway_error: 'github_denied', state: 'service-state-1' });
  });

  it('a GitHub code GitHub refuses (used twice): error=server_error, gateway_error=github_bad_verification_code', async () => {
    const login = uniqueLogin('reused');
    const first = await startSignIn(database.env, serviceQuery());
    const back = await authorizeAtGitHub(first.authorizeUrl, login);
    await callbackAnswer(database.env, back, first.cookie);
    const second = await startSignIn(database.env, serviceQuery('second'));
    back.searchParams.set('state', second.authorizeUrl.searchParams.get('state') ?? '');
    const query = backAtService(await callbackAnswer(database.env, back, second.cookie)).query;
    expect(query).toMatchObject({
      error: 'server_error',
      gateway_error: 'github_bad_verification_code',
      state: 'second',
      iss: ISSUER,
    });
    expect(query.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  });

  it('the database unreachable: error=temporarily_unavailable, gateway_error=database_unavailable', async () => {
    const url = new URL(database.url);
    url.port = '1';
    const unreachable = { ...database.env, DATABASE_URL: url.toString() };
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const query = backAtService(await callbackFor(uniqueLogin('outage'), unreachable)).query;
    expect(query).toMatchObject({
      error: 'temporarily_unavailable',
      gateway_error: 'database_unavailable',
      state: 'service-state-1',
    });
  });

  it('GitHub unreachable: error=temporarily_unavailable, gateway_error=github_github_unreachable', async () => {
    const hanging = `http://127.0.0.1:${env.TEST_BLACKHOLE_PORT}`;
    const bindings = { ...database.env, GITHUB_OAUTH_URL: hanging, GITHUB_API_URL: hanging };
    const started = await startSignIn(bindings, serviceQuery());
    const back = new URL('https://gateway.test/auth/github/callback?code=never-answered');
    back.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const query = backAtService(await callbackAnswer(bindings, back, started.cookie)).query;
    expect(query).toMatchObject({ error: 'temporarily_unavailable', gateway_error: 'github_github_unreachable' });
  }, 30_000);

  it('success carries iss too, next to the code and the state', async () => {
    const login = uniqueLogin('iss');
    await callbackFor(login);
    await whitelist(database, login);
    const query = backAtService(await callbackFor(login)).query;
    expect(Object.keys(query).sort()).toEqual(['code', 'iss', 'state']);
    expect(query.iss).toBe(ISSUER);
  });

  it('a service that sent no state gets none back', async () => {
    const started = await startSignIn(
      database.env,
      `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const query = backAtService(await callbackAnswer(database.env, cancelledAtGitHub(started), started.cookie)).query;
    expect(query.state).toBeUndefined();
    expect(query.error).toBe('access_denied');
  });

  it('a state that does not match the attempt stays on the gateway’s error page: nothing sealed to trust', async () => {
    const started = await startSignIn(database.env, serviceQuery());
    const back = cancelledAtGitHub(started);
    back.searchParams.set('state', 'forged');
    const response = await callbackAnswer(database.env, back, started.cookie);
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('Error code: state_mismatch');
  });
});

describe('the pending page is a page of its own', () => {
  it('a person not admitted is sent (303) to /pending, whose back link carries access_denied, not_whitelisted, the state and iss', async () => {
    const login = uniqueLogin('pending');
    const answer = await callbackFor(login);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/pending');
    expect(setCookieHeader(answer, PENDING_COOKIE)).toMatch(/Max-Age=3600/);
    expect(setCookieHeader(answer, SIGN_IN_COOKIE)).toMatch(/Max-Age=0/);
    const page = await pendingPage(database.env, cookiesOf(answer).get(PENDING_COOKIE) ?? '');
    expect(page.status).toBe(403);
    const text = await page.text();
    expect(text).toContain(login);
    const backLink = new URL(SERVICE_REDIRECT);
    backLink.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'You signed in with GitHub, but you are not allowed in (yet). Ask an operator of the gateway.',
      gateway_error: 'not_whitelisted',
      state: 'service-state-1',
      iss: ISSUER,
    }).toString();
    expect(text).toContain(
      `href="${backLink.toString().replaceAll('&', '&amp;')}">Back to Test ${service.identifier}</a>`,
    );
  });

  it('pending, then whitelisted: reloading /pending continues (303) with a new sign-in from the same link', async () => {
    const login = uniqueLogin('letin');
    const answer = await callbackFor(login);
    const pendingCookie = cookiesOf(answer).get(PENDING_COOKIE) ?? '';
    expect((await pendingPage(database.env, pendingCookie)).status).toBe(403);
    // Reloaded before being let in: the same page again, not sign_in_expired.
    const reloaded = await pendingPage(database.env, pendingCookie);
    expect(reloaded.status).toBe(403);
    expect(await reloaded.text()).toContain('Access pending');

    await whitelist(database, login);
    const continued = await pendingPage(database.env, pendingCookie);
    expect(continued.status).toBe(303);
    expect(continued.headers.get('location')).toBe(`/login${serviceQuery()}`);
    expect(setCookieHeader(continued, PENDING_COOKIE)).toMatch(/Max-Age=0/);
    // The new sign-in goes through and back to the service with a code; a pending cookie still
    // held (another tab's) ends with it.
    const again = await startSignIn(database.env, serviceQuery());
    const back = await authorizeAtGitHub(again.authorizeUrl, login);
    const admitted = await callWorker(database.env, `${back.pathname}${back.search}`, {
      headers: { Cookie: `${SIGN_IN_COOKIE}=${again.cookie}; ${PENDING_COOKIE}=${pendingCookie}` },
      redirect: 'manual',
    });
    expect(backAtService(admitted).query.code).toBeTruthy();
    expect(setCookieHeader(admitted, PENDING_COOKIE)).toMatch(/Max-Age=0/);
  });

  it('the gateway’s own sign-in pending has no back link', async () => {
    const started = await startSignIn(database.env);
    const answer = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('own')),
      started.cookie,
    );
    expect(answer.headers.get('location')).toBe('/pending');
    const text = await (await pendingPage(database.env, cookiesOf(answer).get(PENDING_COOKIE) ?? '')).text();
    expect(text).toContain('href="/login"');
    expect(text).not.toContain('Back to');
  });

  it('/pending without its cookie (or with a forged one) is the error page: start again', async () => {
    for (const cookie of [null, 'forged']) {
      const response =
        cookie === null ? await callWorker(database.env, '/pending') : await pendingPage(database.env, cookie);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('Error code: sign_in_expired');
    }
  });
});

describe('a replayed callback (Back, or a reload) lands somewhere sensible', () => {
  it('after a pending outcome, with the pending cookie: to /pending', async () => {
    const login = uniqueLogin('replay-pending');
    const started = await startSignIn(database.env, serviceQuery());
    const back = await authorizeAtGitHub(started.authorizeUrl, login);
    const answer = await callbackAnswer(database.env, back, started.cookie);
    const pendingCookie = cookiesOf(answer).get(PENDING_COOKIE) ?? '';
    const replay = await callWorker(database.env, `${back.pathname}${back.search}`, {
      headers: { Cookie: `${PENDING_COOKIE}=${pendingCookie}` },
      redirect: 'manual',
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/pending');
  });

  it('after signing in to the gateway, with its session: to /', async () => {
    const login = uniqueLogin('replay-session');
    const started = await startSignIn(database.env);
    await callbackAnswer(database.env, await authorizeAtGitHub(started.authorizeUrl, login), started.cookie);
    await whitelist(database, login);
    const cookie = await gatewayCookie(database, login);
    const again = await startSignIn(database.env);
    const back = await authorizeAtGitHub(again.authorizeUrl, login);
    const replay = await callWorker(database.env, `${back.pathname}${back.search}`, {
      headers: { Cookie: cookie },
      redirect: 'manual',
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/');
  });

  it('after a sign-in through a service (no gateway session): the error page, start again', async () => {
    const login = uniqueLogin('replay-service');
    await callbackFor(login);
    await whitelist(database, login);
    const started = await startSignIn(database.env, serviceQuery());
    const back = await authorizeAtGitHub(started.authorizeUrl, login);
    expect((await callbackAnswer(database.env, back, started.cookie)).status).toBe(302);
    const replay = await callbackAnswer(database.env, back, null);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('Error code: sign_in_expired');
  });
});

describe('signing out is POST, then 303 to a page', () => {
  it('"Sign out" and "Sign out everywhere" 303 to /signed-out, which shows what happened on reload too', async () => {
    const other = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service, 'out');
    await signedInPerson(database, other, 'unrelated');
    const cookie = await gatewayCookie(database, person.login);

    const everywhere = await postSignOut(database, cookie, { everywhere: '1' });
    expect(everywhere.status).toBe(303);
    expect(everywhere.headers.get('location')).toBe('/signed-out');
    expect(setCookieHeader(everywhere, SESSION_COOKIE)).toMatch(/Max-Age=0/);
    const flash = `${SIGNED_OUT_COOKIE}=${cookiesOf(everywhere).get(SIGNED_OUT_COOKIE)}`;
    for (const _reload of [1, 2]) {
      const page = await callWorker(database.env, '/signed-out', { headers: { Cookie: flash } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('of 1 service');
    }

    const here = await postSignOut(database, await gatewayCookie(database, person.login), {});
    expect(here.status).toBe(303);
    expect(here.headers.get('location')).toBe('/signed-out');
  });

  it('signing out leaves nothing of this browser’s sign-ins for the next person: the pending and attempt cookies go too', async () => {
    const person = await signedInPerson(database, service, 'shared');
    const cookie = `${await gatewayCookie(database, person.login)}; ${PENDING_COOKIE}=earlier; ${SIGN_IN_COOKIE}=earlier`;
    const response = await postSignOut(database, cookie, { everywhere: '1' });
    expect(response.status).toBe(303);
    for (const name of [SESSION_COOKIE, PENDING_COOKIE, SIGN_IN_COOKIE]) {
      expect(setCookieHeader(response, name)).toMatch(/Max-Age=0/);
    }
  });

  it('/signed-out without a sign-out of this browser’s (a link) goes to /', async () => {
    for (const cookie of ['', `${SIGNED_OUT_COOKIE}=forged`]) {
      const response = await callWorker(database.env, '/signed-out', {
        headers: { Cookie: cookie },
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/');
    }
  });

  it('"Sign out of <service>" 303s to /?signed_out_of=<service id>', async () => {
    const person = await signedInPerson(database, service, 'leave');
    const cookie = await gatewayCookie(database, person.login);
    const response = await postSignOut(database, cookie, { service: service.id });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/?signed_out_of=${service.id}`);
    const junk = await postSignOut(database, cookie, { service: 'not-an-id' });
    expect(junk.headers.get('location')).toBe('/');
  });
});
