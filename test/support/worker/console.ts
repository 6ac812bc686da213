import { eq } from 'drizzle-orm';
import { users } from '../../../drizzle/schema.ts';
import { setOperatorGrant } from '../../../src/users/operator-grant.ts';
import { TEST_OPERATOR } from '../change-origin.ts';
import { callWorker } from './call-worker.ts';
import { gatewayCookie } from './people.ts';
import { whitelist } from './services.ts';
import { signIn, uniqueLogin } from './sign-in-flow.ts';
import type { TestDatabase } from './test-database.ts';

export const CONSOLE_ORIGIN = 'https://gateway.test';
const HTML = { Accept: 'text/html' };
const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Origin: CONSOLE_ORIGIN };

export interface ConsoleOperatorSession {
  login: string;
  cookie: string;
  userId: string;
}

/** The console as a browser uses it, against one test database. */
export function consoleClient(database: TestDatabase) {
  async function userIdOf(login: string): Promise<string> {
    const [row] = await database.use((db) =>
      db.select({ id: users.id }).from(users).where(eq(users.githubLogin, login)),
    );
    return row?.id ?? '';
  }

  /** A whitelisted person signed in to the gateway's landing, holding the operator grant. */
  async function signedInOperator(env = database.env): Promise<ConsoleOperatorSession> {
    const login = uniqueLogin('op');
    await signIn(env, login);
    await whitelist(database, login);
    const cookie = await gatewayCookie({ ...database, env }, login);
    await database.use((db) => setOperatorGrant(db, { login }, true, TEST_OPERATOR));
    return { login, cookie, userId: await userIdOf(login) };
  }

  function get(path: string, cookie: string | null, env = database.env, headers: Record<string, string> = HTML) {
    return callWorker(env, path, {
      headers: { ...headers, ...(cookie ? { Cookie: cookie } : {}) },
      redirect: 'manual',
    });
  }

  /** The CSRF token the console's forms carry for this operator's session, as the page shows it. */
  async function csrfOf(operator: ConsoleOperatorSession): Promise<string> {
    const page = await (await get('/console/people', operator.cookie)).text();
    const match = /name="csrf" value="([^"]+)"/.exec(page);
    if (!match?.[1]) throw new Error('the People page carries no CSRF token');
    return match[1];
  }

  function post(
    path: string,
    cookie: string | null,
    form: Record<string, string> | [string, string][],
    headers: Record<string, string> = SAME_ORIGIN,
    env = database.env,
  ) {
    return callWorker(env, path, {
      method: 'POST',
      headers: {
        ...HTML,
        ...headers,
        'Content-Type': 'application/x-www-form-urlencoded',
        ...(cookie ? { Cookie: cookie } : {}),
      },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
  }

  /** A POST from the console's own page: same origin, with the operator's CSRF token. */
  async function submit(
    operator: ConsoleOperatorSession,
    path: string,
    form: Record<string, string>,
    env = database.env,
  ) {
    return post(path, operator.cookie, { csrf: await csrfOf(operator), ...form }, SAME_ORIGIN, env);
  }

  /**
   * The hidden fields of a service's rotation form on the Services page (its id and the `key_id`
   * of the key it was shown for), as the browser posts them.
   */
  async function rotationForm(operator: ConsoleOperatorSession, identifier: string): Promise<Record<string, string>> {
    const page = await (await get('/console/services', operator.cookie)).text();
    const form = page
      .slice(page.indexOf('action="/console/services/rotate-key"', page.indexOf(`<code>${identifier}</code>`)))
      .split('</form>')[0];
    const keyId = /name="key_id" value="([^"]*)"/.exec(form ?? '')?.[1];
    if (keyId === undefined) throw new Error('the rotation form carries no key_id');
    return { id: identifier, key_id: keyId };
  }

  return { userIdOf, signedInOperator, get, csrfOf, post, submit, rotationForm };
}
