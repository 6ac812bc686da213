import { Hono } from 'hono';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GatewayVariables, gatewayCallback, gatewaySignIn, requireGatewaySession } from '../../client/src/hono.ts';
import {
  createGatewayClient,
  createGatewayHandler,
  type GatewayClient,
  type Person,
  startSignIn as startServiceSignIn,
} from '../../client/src/index.ts';
import { PENDING_COOKIE } from '../../src/sign-in/pending.ts';
import { workerFetch } from '../support/worker/client-fetch.ts';
import { SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callbackAnswer,
  cookiesOf,
  pendingPage,
  signIn,
  startSignIn,
  uniqueLogin,
} from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let service: RegisteredService;
let client: GatewayClient;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
  client = createGatewayClient({
    gatewayUrl: 'https://gateway.test',
    serviceId: service.identifier,
    key: service.key,
    fetch: workerFetch(() => database.env),
  });
});

const APP = new URL(SERVICE_REDIRECT).origin;

/** A service's own app, asked like a browser asks it: `(request) => Response`. */
type ServiceApp = (request: Request) => Promise<Response>;

function honoApp(): ServiceApp {
  const app = new Hono<{ Variables: GatewayVariables }>();
  app.get('/auth/login', gatewaySignIn(client, { redirectUri: SERVICE_REDIRECT }));
  app.get('/auth/done', gatewayCallback(client, { redirectUri: SERVICE_REDIRECT }));
  app.get('/me', requireGatewaySession(client), (c) => c.json(c.get('gatewayPerson')));
  return async (request) => app.fetch(request);
}

function neutralApp(): ServiceApp {
  const handle = createGatewayHandler(client, { redirectUri: SERVICE_REDIRECT });
  return async (request) => {
    const answer = await handle(request);
    return answer instanceof Response ? answer : Response.json(answer satisfies Person);
  };
}

/** The browser: the service's login route, the gateway and GitHub, the service's callback. Its cookies then. */
async function signInAt(app: ServiceApp, login: string): Promise<{ callback: Response; cookie: string }> {
  const start = await app(new Request(`${APP}/auth/login`));
  expect(start.status).toBe(302);
  const signInCookie = `__Host-gateway_sign_in=${cookiesOf(start).get('__Host-gateway_sign_in')}`;
  const started = await startSignIn(database.env, new URL(start.headers.get('location') ?? '').search);
  const back = await callbackAnswer(database.env, await authorizeAtGitHub(started.authorizeUrl, login), started.cookie);
  const callback = await app(new Request(back.headers.get('location') ?? '', { headers: { Cookie: signInCookie } }));
  return { callback, cookie: `__Host-gateway_session=${cookiesOf(callback).get('__Host-gateway_session') ?? ''}` };
}

async function admittedPerson(prefix: string): Promise<string> {
  const login = uniqueLogin(prefix);
  await signIn(database.env, login);
  await whitelist(database, login);
  return login;
}

describe.each([
  ['Hono: gatewaySignIn, gatewayCallback, requireGatewaySession()', honoApp],
  ['the framework-neutral handler', neutralApp],
])('%s', (_name, makeApp) => {
  it('signs a person in: the callback sets the session cookie and sends them on (303 to /)', async () => {
    const { callback, cookie } = await signInAt(makeApp(), await admittedPerson('mw-in'));
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/');
    const set = callback.headers.getSetCookie();
    expect(set.find((header) => header.startsWith('__Host-gateway_session='))).toMatch(
      /^__Host-gateway_session=gws_[^;]+; Path=\/; HttpOnly; SameSite=Lax; Secure; Expires=/,
    );
    expect(set.find((header) => header.startsWith('__Host-gateway_sign_in='))).toContain('Max-Age=0');
    expect(cookie).toMatch(/^__Host-gateway_session=gws_/);
  });

  it('a signed-in request gets the person, by the session cookie or an Authorization header', async () => {
    const app = makeApp();
    const login = await admittedPerson('mw-me');
    const { cookie } = await signInAt(app, login);
    const byCookie = await app(new Request(`${APP}/me`, { headers: { Cookie: cookie } }));
    expect(byCookie.status).toBe(200);
    expect(await byCookie.json()).toMatchObject({ login, whitelisted: true });
    const token = cookie.slice('__Host-gateway_session='.length);
    const byHeader = await app(new Request(`${APP}/me`, { headers: { Authorization: `Bearer ${token}` } }));
    expect(await byHeader.json()).toMatchObject({ login });
  });

  it('401 without a session (missing_session), and with a revoked one (revoked_session)', async () => {
    const app = makeApp();
    const none = await app(new Request(`${APP}/me`));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'missing_session' } });
    const { cookie } = await signInAt(app, await admittedPerson('mw-out'));
    await client.revoke(cookie.slice('__Host-gateway_session='.length));
    const revoked = await app(new Request(`${APP}/me`, { headers: { Cookie: cookie } }));
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ error: { code: 'revoked_session' } });
  });

  it('refused, then let in: the sign-in cookie kept after the refusal lets the pending page continue the same sign-in', async () => {
    const app = makeApp();
    const login = uniqueLogin('mw-later');
    const start = await app(new Request(`${APP}/auth/login`));
    const signInCookie = `__Host-gateway_sign_in=${cookiesOf(start).get('__Host-gateway_sign_in')}`;
    const started = await startSignIn(database.env, new URL(start.headers.get('location') ?? '').search);
    const pending = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, login),
      started.cookie,
    );
    const pendingCookie = cookiesOf(pending).get(PENDING_COOKIE) ?? '';
    const page = await (await pendingPage(database.env, pendingCookie)).text();
    const backLink = (page.match(/href="([^"]+)">Back to/)?.[1] ?? '').replaceAll('&amp;', '&');
    const refused = await app(new Request(backLink, { headers: { Cookie: signInCookie } }));
    expect(refused.status).toBe(401);
    expect(refused.headers.getSetCookie().some((header) => header.startsWith('__Host-gateway_sign_in='))).toBe(false);

    await whitelist(database, login);
    const continued = await pendingPage(database.env, pendingCookie);
    expect(continued.status).toBe(303);
    const again = await startSignIn(database.env, new URL(continued.headers.get('location') ?? '', APP).search);
    const back = await callbackAnswer(database.env, await authorizeAtGitHub(again.authorizeUrl, login), again.cookie);
    const callback = await app(new Request(back.headers.get('location') ?? '', { headers: { Cookie: signInCookie } }));
    expect(callback.status).toBe(303);
    expect(cookiesOf(callback).get('__Host-gateway_session')).toMatch(/^gws_/);
  });

  it('a callback without the sign-in cookie (another browser): 401 state_mismatch, no session cookie', async () => {
    const app = makeApp();
    const start = await app(new Request(`${APP}/auth/login`));
    const started = await startSignIn(database.env, new URL(start.headers.get('location') ?? '').search);
    const login = await admittedPerson('mw-csrf');
    const back = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, login),
      started.cookie,
    );
    const callback = await app(new Request(back.headers.get('location') ?? ''));
    expect(callback.status).toBe(401);
    expect(await callback.text()).toContain('(state_mismatch)');
    expect(callback.headers.getSetCookie().some((header) => header.startsWith('__Host-gateway_session='))).toBe(false);
  });
});

describe('the sign-in cookie', () => {
  it('over http (a local service): gateway_sign_in, without Secure or the __Host- prefix, for an hour (as the pending page)', async () => {
    const local = 'http://localhost:8080/auth/done';
    const start = await startServiceSignIn(client, new Request('http://localhost:8080/auth/login'), {
      redirectUri: local,
    });
    const [cookie = ''] = start.headers.getSetCookie();
    expect(cookie).toMatch(
      /^gateway_sign_in=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/,
    );
    expect(new URL(start.headers.get('location') ?? '').searchParams.get('redirect_uri')).toBe(local);
  });
});
