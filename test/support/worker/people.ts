import { SESSION_COOKIE } from '../../../src/sign-in/browser-session.ts';
import { callWorker } from './call-worker.ts';
import { type RegisteredService, whitelist } from './services.ts';
import { cookiesOf, signIn, uniqueLogin } from './sign-in-flow.ts';
import type { TestDatabase } from './test-database.ts';

export const SERVICE_REDIRECT = 'https://app.example.com/auth/done';

/** A whitelisted person signed in through `service`: their session token and user id. */
export async function signedInPerson(
  database: TestDatabase,
  service: RegisteredService,
  prefix = 'person',
): Promise<{ login: string; token: string; userId: string }> {
  const login = uniqueLogin(prefix);
  const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
  await signIn(database.env, login, query);
  await whitelist(database, login);
  const back = await signIn(database.env, login, query);
  const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
  const exchange = await callWorker(database.env, '/v1/sessions/exchange', {
    method: 'POST',
    headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, redirect_uri: SERVICE_REDIRECT }),
  });
  const body = (await exchange.json()) as { session: { token: string }; user: { id: string } };
  return { login, token: body.session.token, userId: body.user.id };
}

/** POST a JSON body to a service endpoint with a service key. */
export function callService(
  database: TestDatabase,
  path: string,
  key: string | null,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return callWorker(database.env, path, {
    method: 'POST',
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The person (already whitelisted) signs in on the gateway's own page: the Cookie header their browser now sends. */
export async function gatewayCookie(database: TestDatabase, login: string): Promise<string> {
  const token = cookiesOf(await signIn(database.env, login)).get(SESSION_COOKIE);
  if (!token) throw new Error(`${login} got no gateway session cookie: are they whitelisted?`);
  return `${SESSION_COOKIE}=${token}`;
}

/** The landing page's sign-out forms, as the browser posts them (same origin). */
export function postSignOut(database: TestDatabase, cookie: string, form: Record<string, string>): Promise<Response> {
  return callWorker(database.env, '/logout', {
    method: 'POST',
    headers: { Cookie: cookie, 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

/** The page a sign-out redirects (303) to, as the browser then shows it: its HTML. */
export async function signedOutPageText(database: TestDatabase, signedOut: Response): Promise<string> {
  const flash = signedOut.headers.getSetCookie().find((header) => header.startsWith('__Host-gw_signed_out='));
  const cookie = flash?.split(';')[0] ?? '';
  const page = await callWorker(database.env, signedOut.headers.get('location') ?? '/', {
    headers: { Cookie: cookie },
  });
  return page.text();
}

/** The landing page as that browser sees it. */
export async function landingHtml(database: TestDatabase, cookie: string): Promise<string> {
  return (await callWorker(database.env, '/', { headers: { Cookie: cookie } })).text();
}

/** What `/v1/github-token` by user id answers: 'ok' with a token, else the error code. */
export async function tokenByUserId(database: TestDatabase, key: string, userId: string): Promise<string> {
  const answer = await callService(database, '/v1/github-token', key, { user_id: userId });
  if (answer.status !== 200) return ((await answer.json()) as { error: { code: string } }).error.code;
  const body = (await answer.json()) as { access_token: string };
  return body.access_token.startsWith('ghu_') ? 'ok' : 'not a ghu_ token';
}

/** What `/v1/verify` says of a session token. */
export async function verifyCode(database: TestDatabase, key: string, session: string): Promise<string> {
  const answer = await callService(database, '/v1/verify', key, { session });
  return ((await answer.json()) as { code: string }).code;
}
