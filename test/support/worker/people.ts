import { callWorker } from './call-worker.ts';
import { type RegisteredService, whitelist } from './services.ts';
import { signIn, uniqueLogin } from './sign-in-flow.ts';
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
    body: JSON.stringify({ code }),
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
