import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, users } from '../../drizzle/schema.ts';
import { setOperatorGrant } from '../../src/users/operator-grant.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { CONSOLE_ORIGIN, consoleClient } from '../support/worker/console.ts';
import { gatewayCookie } from '../support/worker/people.ts';
import { whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Every test here sees changes at once, except the one that drives the cache bound itself.
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  web = consoleClient(database);
});

/** The console as a browser uses it (test/support/worker/console.ts), against this file's database. */
let web: ReturnType<typeof consoleClient>;
const signedInOperator = (env?: TestDatabase['env']) => web.signedInOperator(env);
const get = (...args: Parameters<typeof web.get>) => web.get(...args);
const csrfOf = (...args: Parameters<typeof web.csrfOf>) => web.csrfOf(...args);
const post = (...args: Parameters<typeof web.post>) => web.post(...args);

const ORIGIN = CONSOLE_ORIGIN;
const HTML = { Accept: 'text/html' };

/** Someone who signed in and was not let in: waiting on the access-pending page. */
async function pendingPerson(prefix = 'waiting'): Promise<{ login: string; githubId: string; userId: string }> {
  const login = uniqueLogin(prefix);
  await signIn(database.env, login);
  const [row] = await database.use((db) =>
    db.select({ id: users.id, githubId: users.githubUserId }).from(users).where(eq(users.githubLogin, login)),
  );
  if (!row) throw new Error(`${login} has no row`);
  return { login, githubId: row.githubId, userId: row.id };
}

async function isWhitelisted(userId: string): Promise<boolean> {
  const [row] = await database.use((db) =>
    db.select({ on: users.isWhitelisted }).from(users).where(eq(users.id, userId)),
  );
  return row?.on ?? false;
}

/** What an unknown path answers, to compare the console's refusals with. */
async function unknownPathAnswer(method = 'GET'): Promise<{ status: number; body: string; headers: Headers }> {
  const answer = await callWorker(database.env, '/no-such-page', { method, headers: HTML });
  return { status: answer.status, body: await answer.text(), headers: answer.headers };
}

/** The answer, in every part that an unknown path's answer has too (the request id aside). */
async function expectSameAsUnknownPath(answer: Response, method = 'GET'): Promise<void> {
  const unknown = await unknownPathAnswer(method);
  expect(answer.status).toBe(404);
  expect(await answer.text()).toBe(unknown.body);
  for (const header of ['Content-Type', 'Content-Security-Policy', 'Cache-Control', 'Allow', 'Location'])
    expect(answer.headers.get(header), header).toBe(unknown.headers.get(header));
}

describe('the console gate', () => {
  it('lets a signed-in, admitted operator in: the People page, with the pages’ CSP, frame-ancestors none and no-store', async () => {
    const operator = await signedInOperator();
    const page = await get('/console/people', operator.cookie);
    expect(page.status).toBe(200);
    const csp = page.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' https://avatars.githubusercontent.com");
    expect(page.headers.get('Cache-Control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<h1>People</h1>');
    expect(html).toContain(`Operator: <strong>${operator.login}</strong>`);
  });

  it('/console sends the operator on to the People page', async () => {
    const operator = await signedInOperator();
    const answer = await get('/console', operator.cookie);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('Location')).toBe('/console/people');
  });

  it('answers a visitor who is not signed in exactly as an unknown path, on every console path and method', async () => {
    await expectSameAsUnknownPath(await get('/console/people', null));
    await expectSameAsUnknownPath(await get('/console', null));
    await expectSameAsUnknownPath(await post('/console/people/let-in', null, { github_id: '1' }), 'POST');
    // No 405 naming the methods a console path takes: also the same as an unknown path.
    const put = await callWorker(database.env, '/console/people', { method: 'PUT', headers: HTML });
    await expectSameAsUnknownPath(put, 'PUT');
  });

  it('answers a non-browser client that is not let in with the JSON not-found an unknown path gets', async () => {
    const answer = await get('/console/people', null, database.env, { Accept: 'application/json' });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /console/people.' } });
  });

  it('answers a signed-in, admitted person without the operator grant exactly as an unknown path', async () => {
    const login = uniqueLogin('plain');
    await signIn(database.env, login);
    await whitelist(database, login);
    const cookie = await gatewayCookie(database, login);
    await expectSameAsUnknownPath(await get('/console/people', cookie));
  });

  it('answers an operator who is no longer admitted exactly as an unknown path', async () => {
    const operator = await signedInOperator();
    expect((await get('/console/people', operator.cookie)).status).toBe(200);
    await whitelist(database, operator.login, false);
    await expectSameAsUnknownPath(await get('/console/people', operator.cookie));
  });

  it('answers an operator whose session was signed out exactly as an unknown path', async () => {
    const operator = await signedInOperator();
    await callWorker(database.env, '/logout', {
      method: 'POST',
      headers: { Cookie: operator.cookie, 'Sec-Fetch-Site': 'same-origin' },
      redirect: 'manual',
    });
    await expectSameAsUnknownPath(await get('/console/people', operator.cookie));
  });

  it('answers an operator whose grant was removed as an unknown path once VERIFY_CACHE_SECONDS has passed', async () => {
    const cached = { ...database.env, VERIFY_CACHE_SECONDS: '1' };
    const operator = await signedInOperator(cached);
    expect((await get('/console/people', operator.cookie, cached)).status).toBe(200);
    await database.use((db) => setOperatorGrant(db, { login: operator.login }, false, TEST_OPERATOR));
    // Within the bound this isolate may still trust the grant it has just seen...
    expect((await get('/console/people', operator.cookie, cached)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1150));
    // ...after it, never.
    const after = await get('/console/people', operator.cookie, cached);
    expect(after.status).toBe(404);
    expect(await after.text()).toBe((await unknownPathAnswer()).body);
  });

  it('answers an operator asking for a console path that does not exist with the ordinary 404', async () => {
    const operator = await signedInOperator();
    await expectSameAsUnknownPath(await get('/console/nothing-here', operator.cookie));
  });
});

describe('the console’s CSRF checks', () => {
  it('refuses a POST without the CSRF token with a 403 page, and lets no one in', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const answer = await post('/console/people/let-in', operator.cookie, { github_id: person.githubId });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('Content-Type')).toContain('text/html');
    expect(await answer.text()).toContain('Nothing was changed');
    expect(await isWhitelisted(person.userId)).toBe(false);
  });

  it('refuses a POST with a wrong CSRF token (another session’s) with a 403, and lets no one in', async () => {
    const operator = await signedInOperator();
    const other = await signedInOperator();
    const person = await pendingPerson();
    const answer = await post('/console/people/let-in', operator.cookie, {
      csrf: await csrfOf(other),
      github_id: person.githubId,
    });
    expect(answer.status).toBe(403);
    expect(await isWhitelisted(person.userId)).toBe(false);
  });

  it('refuses a cross-site POST (a foreign Origin, Sec-Fetch-Site cross-site) with a 403, even with the right token', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const form = { csrf: await csrfOf(operator), github_id: person.githubId };
    const crossSite: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://sub.gateway.test' },
      {},
    ];
    for (const headers of crossSite) {
      const answer = await post('/console/people/let-in', operator.cookie, form, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await isWhitelisted(person.userId)).toBe(false);
  });

  it('accepts a same-origin POST with the token: by Sec-Fetch-Site, or by Origin alone', async () => {
    const operator = await signedInOperator();
    const [a, b] = [await pendingPerson(), await pendingPerson()];
    const csrf = await csrfOf(operator);
    const bySite = await post(
      '/console/people/let-in',
      operator.cookie,
      { csrf, github_id: a.githubId },
      {
        'Sec-Fetch-Site': 'same-origin',
      },
    );
    expect(bySite.status).toBe(303);
    const byOrigin = await post(
      '/console/people/let-in',
      operator.cookie,
      { csrf, github_id: b.githubId },
      {
        Origin: ORIGIN,
      },
    );
    expect(byOrigin.status).toBe(303);
    expect([await isWhitelisted(a.userId), await isWhitelisted(b.userId)]).toEqual([true, true]);
  });
});

describe('the People page', () => {
  it('lists a pending sign-up first, with their login, GitHub avatar, when, and the Let in and Dismiss buttons', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const html = await (await get('/console/people', operator.cookie)).text();
    const pendingSection = html.slice(html.indexOf('id="pending"'), html.indexOf('id="everyone"'));
    expect(pendingSection).toContain(`<strong>${person.login}</strong> (GitHub id ${person.githubId})`);
    expect(pendingSection).toContain(`src="https://avatars.githubusercontent.com/u/${person.githubId}?s=64"`);
    expect(pendingSection).toMatch(/signed in <time datetime="[^"]+"/);
    expect(pendingSection).toContain(`Let in ${person.login}</button>`);
    expect(pendingSection).toContain(`Dismiss ${person.login}</button>`);
    // The operator, admitted, is with everyone else, with why.
    const everyone = html.slice(html.indexOf('id="everyone"'));
    expect(everyone).toContain(operator.login);
    expect(everyone).toContain('Yes: the whitelist');
    expect(pendingSection).not.toContain(operator.login);
  });

  it('“Let in” whitelists the person (they are admitted), records the operator as the actor, and 303s back with a flash', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const answer = await post('/console/people/let-in', operator.cookie, {
      csrf: await csrfOf(operator),
      github_id: person.githubId,
    });
    expect(answer.status).toBe(303);
    const location = answer.headers.get('Location') ?? '';
    // The flash's fields, signed for this operator's session (a link made elsewhere shows nothing).
    expect(location).toMatch(new RegExp(`^/console/people\\?done=let_in&github_id=${person.githubId}&sig=[\\w-]{43}$`));
    expect(await isWhitelisted(person.userId)).toBe(true);
    // Admitted now: their next sign-in at the gateway gets a session.
    expect(await gatewayCookie(database, person.login)).toContain('__Host-gw_session=');
    const records = await database.use((db) =>
      db
        .select({ actorKind: changeRecords.actorKind, actorUserId: changeRecords.actorUserId })
        .from(changeRecords)
        .where(and(eq(changeRecords.subjectUserId, person.userId), eq(changeRecords.action, 'users:whitelist'))),
    );
    expect(records).toEqual([{ actorKind: 'person', actorUserId: operator.userId }]);
    const page = await (await get(location, operator.cookie)).text();
    expect(page).toContain(`<p class="notice" role="status"><strong>${person.login}</strong> is let in.</p>`);
  });

  it('a flash the lists do not bear out (a made-up link) is not shown', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const page = await (await get(`/console/people?done=let_in&github_id=${person.githubId}`, operator.cookie)).text();
    expect(page).not.toContain('class="notice"');
  });

  it('“Dismiss” hides the person from the pending list until they sign in again, lets no one in, and is recorded', async () => {
    const operator = await signedInOperator();
    const person = await pendingPerson();
    const answer = await post('/console/people/dismiss', operator.cookie, {
      csrf: await csrfOf(operator),
      github_id: person.githubId,
    });
    expect(answer.status).toBe(303);
    const page = await (await get(answer.headers.get('Location') ?? '', operator.cookie)).text();
    expect(page).toContain(`<strong>${person.login}</strong> is dismissed until they sign in again.`);
    const pendingSection = page.slice(page.indexOf('id="pending"'), page.indexOf('id="everyone"'));
    expect(pendingSection).not.toContain(person.login);
    expect(await isWhitelisted(person.userId)).toBe(false);
    const records = await database.use((db) =>
      db
        .select({ actorUserId: changeRecords.actorUserId })
        .from(changeRecords)
        .where(and(eq(changeRecords.subjectUserId, person.userId), eq(changeRecords.action, 'users:dismiss-pending'))),
    );
    expect(records).toEqual([{ actorUserId: operator.userId }]);
    // Signing in again asks again: back on the list.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await signIn(database.env, person.login);
    const again = await (await get('/console/people', operator.cookie)).text();
    expect(again.slice(again.indexOf('id="pending"'), again.indexOf('id="everyone"'))).toContain(person.login);
  });
});
