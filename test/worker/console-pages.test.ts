import { env } from 'cloudflare:test';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, serviceRegistry, sessions } from '../../drizzle/schema.ts';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { setOperatorGrant } from '../../src/users/operator-grant.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { consoleClient } from '../support/worker/console.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService } from '../support/worker/services.ts';
import { uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let web: ReturnType<typeof consoleClient>;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  web = consoleClient(database);
});

const liveSessions = (userId: string) =>
  database.use((db) =>
    db
      .select({ serviceId: sessions.serviceId })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt))),
  );

const changesAbout = (action: string, where: { userId?: string; serviceId?: string }) =>
  database.use((db) =>
    db
      .select({
        actorKind: changeRecords.actorKind,
        actorUserId: changeRecords.actorUserId,
        details: changeRecords.details,
      })
      .from(changeRecords)
      .where(
        and(
          eq(changeRecords.action, action),
          where.userId ? eq(changeRecords.subjectUserId, where.userId) : undefined,
          where.serviceId ? eq(changeRecords.subjectServiceId, where.serviceId) : undefined,
        ),
      ),
  );

const verifyStatus = async (key: string) =>
  (await callService(database, '/v1/verify', key, { user_id: crypto.randomUUID() })).status;

/** The key a key page shows, in its readonly field. */
function shownKey(page: string): string {
  const match = /<input id="new-key" class="key" readonly value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no key on the page');
  return match[1];
}

const NEW_POSTS = [
  '/console/people/sign-out',
  '/console/people/operator',
  '/console/rules/add',
  '/console/rules/remove',
  '/console/services/register',
  '/console/services/rotate-key',
  '/console/services/state',
  '/console/services/rename',
  '/console/services/edit',
  '/console/services/delete',
];

describe('the console’s CSRF checks on every change', () => {
  it('refuses each POST without the CSRF token, or cross-site with it, with a 403 page, and changes nothing', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const csrf = await web.csrfOf(operator);
    const form = { id: service.identifier, active: 'false', name: 'x', confirm: 'yes', github_id: '1', grant: 'true' };
    for (const path of NEW_POSTS) {
      const bare = await web.post(path, operator.cookie, form);
      expect(bare.status, path).toBe(403);
      expect(await bare.text(), path).toContain('Nothing was changed');
      const crossSite = await web.post(path, operator.cookie, { ...form, csrf }, { 'Sec-Fetch-Site': 'cross-site' });
      expect(crossSite.status, path).toBe(403);
    }
    expect(await verifyStatus(service.key)).not.toBe(401);
    const [row] = await database.use((db) =>
      db
        .select({ active: serviceRegistry.isActive, name: serviceRegistry.displayName })
        .from(serviceRegistry)
        .where(eq(serviceRegistry.id, service.id)),
    );
    expect(row).toEqual({ active: true, name: `Test ${service.identifier}` });
  });
});

describe('the People page: sessions, sign-outs, rules and operators', () => {
  it('lists a person’s live sessions by service; “Sign out of <service>” ends them, recorded with the operator as actor', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    const page = await (await web.get('/console/people', operator.cookie)).text();
    expect(page).toContain(`${service.identifier}: 1, until <time`);
    expect(page).toContain(`Sign ${person.login} out of ${service.identifier}</button>`);
    const githubId = /name="github_id" value="(\d+)"><input type="hidden" name="service"/.exec(
      page.slice(page.indexOf(`Sign ${person.login} out of`) - 600),
    )?.[1];
    const answer = await web.submit(operator, '/console/people/sign-out', {
      github_id: githubId ?? '',
      service: service.identifier,
    });
    expect(answer.status).toBe(303);
    expect(await liveSessions(person.userId)).toEqual([]);
    expect(await changesAbout('sign-out:service', { userId: person.userId })).toEqual([
      { actorKind: 'person', actorUserId: operator.userId, details: { sessions_ended: 1, via: 'console' } },
    ]);
    const after = await (await web.get(answer.headers.get('Location') ?? '', operator.cookie)).text();
    expect(after).toContain(`<strong>${person.login}</strong> is signed out of ${service.identifier}.`);
  });

  it('“Sign out everywhere” ends every session of the person’s, recorded with the operator as actor', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    const githubId = (await web.get('/console/people', operator.cookie)).text().then((page) => {
      const at = page.indexOf(`Sign ${person.login} out everywhere`);
      return (
        /name="github_id" value="(\d+)"><input type="hidden" name="everywhere"/.exec(page.slice(at - 400, at))?.[1] ??
        ''
      );
    });
    const answer = await web.submit(operator, '/console/people/sign-out', {
      github_id: await githubId,
      everywhere: '1',
    });
    expect(answer.status).toBe(303);
    expect(await liveSessions(person.userId)).toEqual([]);
    const records = await changesAbout('sign-out:everywhere', { userId: person.userId });
    expect(records.map((each) => each.actorUserId)).toEqual([operator.userId]);
    expect(await (await web.get(answer.headers.get('Location') ?? '', operator.cookie)).text()).toContain(
      'is signed out of every service and of this gateway.',
    );
  });

  it('adds an org rule through GitHub’s lookup (made by the operator, person:<id>), lists it, and removes it', async () => {
    const operator = await web.signedInOperator();
    const org = uniqueLogin('console-org');
    await standInControl(env.GITHUB_API_URL).setMembership({ org, team: 'platform', login: uniqueLogin('member') });
    const added = await web.submit(operator, '/console/rules/add', { kind: 'org', target: org });
    expect(added.status).toBe(303);
    const page = await (await web.get(added.headers.get('Location') ?? '', operator.cookie)).text();
    expect(page).toContain('The rule is added.');
    expect(page).toContain(`<td>members of ${org}</td><td>org</td><td>person:${operator.userId}</td>`);
    const ruleId =
      /name="rule_id" value="([^"]+)"><button type="submit" class="secondary">Remove the rule admitting members of (\S+)</.exec(
        page.slice(page.indexOf(`members of ${org}`)),
      )?.[1];
    const removed = await web.submit(operator, '/console/rules/remove', { rule_id: ruleId ?? '' });
    expect(removed.status).toBe(303);
    const after = await (await web.get(removed.headers.get('Location') ?? '', operator.cookie)).text();
    expect(after).toContain('The rule is removed');
    expect(after).not.toContain(`<td>members of ${org}</td>`);
    const records = await changesAbout('users:deny', {});
    expect(records.some((each) => each.actorUserId === operator.userId)).toBe(true);
  });

  it('refuses a team named without its slug with a 400 page saying how to name it, and makes no rule', async () => {
    const operator = await web.signedInOperator();
    const answer = await web.submit(operator, '/console/rules/add', { kind: 'team', target: 'acme' });
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('<h1>Not done</h1>');
    expect(page).toContain('A team is named ORG/TEAM-SLUG');
  });

  it('grants the operator grant from the console, and a revoke shuts the console at once in this isolate, even with a grant cache', async () => {
    const cached = { ...database.env, VERIFY_CACHE_SECONDS: '60' };
    const operator = await web.signedInOperator(cached);
    const other = await web.signedInOperator(cached);
    await database.use((db) => setOperatorGrant(db, { login: other.login }, false, TEST_OPERATOR));
    // Not an operator: refused (and that refusal is cached for 60 s).
    expect((await web.get('/console/people', other.cookie, cached)).status).toBe(404);
    const page = await (await web.get('/console/people', operator.cookie, cached)).text();
    const githubId =
      /name="github_id" value="(\d+)"><input type="hidden" name="grant" value="true"><button type="submit" class="secondary">Make (\S+) an operator/g;
    const match = [...page.matchAll(githubId)].find((each) => each[2] === other.login);
    const csrf = await web.csrfOf(operator);
    const granted = await web.post(
      '/console/people/operator',
      operator.cookie,
      { csrf, github_id: match?.[1] ?? '', grant: 'true' },
      undefined,
      cached,
    );
    expect(granted.status).toBe(303);
    expect((await web.get('/console/people', other.cookie, cached)).status).toBe(200);
    const revoked = await web.post(
      '/console/people/operator',
      operator.cookie,
      { csrf, github_id: match?.[1] ?? '', grant: 'false' },
      undefined,
      cached,
    );
    expect(revoked.status).toBe(303);
    expect((await web.get('/console/people', other.cookie, cached)).status).toBe(404);
    const records = await changesAbout('users:revoke-operator', { userId: other.userId });
    expect(records.at(-1)?.actorUserId).toBe(operator.userId);
  });
});

describe('the Services page', () => {
  it('registers a service: its key shown once, on the POST’s 200 no-store answer, working at /v1/verify, and never again', async () => {
    const operator = await web.signedInOperator();
    const id = `console-${crypto.randomUUID().slice(0, 8)}`;
    const answer = await web.submit(operator, '/console/services/register', {
      id,
      name: 'Console Made',
      scopes: 'users:verify',
      redirect_uris: 'https://made.example.com/cb',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Cache-Control')).toBe('no-store');
    expect(answer.headers.get('Location')).toBeNull();
    const page = await answer.text();
    const key = shownKey(page);
    expect(page).toContain('<script src="/assets/copy.js" defer></script>');
    expect(page).toContain('data-copy="new-key" hidden>Copy the key</button>');
    expect(await verifyStatus(key)).not.toBe(401);
    const list = await (await web.get('/console/services', operator.cookie)).text();
    expect(list).toContain(`Console Made <code>${id}</code>`);
    expect(list).toContain('https://made.example.com/cb');
    expect(list).not.toContain(key);
    const [service] = await database.use((db) =>
      db.select({ id: serviceRegistry.id }).from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, id)),
    );
    const records = await changesAbout('services:register', { serviceId: service?.id ?? '' });
    expect(records).toHaveLength(1);
    expect(records[0]?.actorUserId).toBe(operator.userId);
    expect(JSON.stringify(records)).not.toContain(key);
    const audit = await (await web.get(`/console/audit?service=${id}`, operator.cookie)).text();
    expect(audit).toContain('services:register');
    expect(audit).not.toContain(key);
  });

  it('refuses a registration the admin API’s schema refuses, with a 400 page naming the field', async () => {
    const operator = await web.signedInOperator();
    const answer = await web.submit(operator, '/console/services/register', { id: 'x'.repeat(101), name: 'Too long' });
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('<p role="alert">id: ');
    expect(page).toContain('Error code: invalid_body');
  });

  it('rotates a key with a grace period (both keys work), and refuses a second rotation during it with how to force it', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const rotated = await web.submit(operator, '/console/services/rotate-key', {
      ...(await web.rotationForm(operator, service.identifier)),
      grace_hours: '2',
    });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('Cache-Control')).toBe('no-store');
    const page = await rotated.text();
    expect(page).toContain('the old key works until <time');
    const key = shownKey(page);
    expect([(await verifyStatus(key)) !== 401, (await verifyStatus(service.key)) !== 401]).toEqual([true, true]);
    // From the page shown after the first rotation: a second rotation, not the first form sent again.
    const again = await web.submit(operator, '/console/services/rotate-key', {
      ...(await web.rotationForm(operator, service.identifier)),
      grace_hours: '2',
    });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('Tick “even during an earlier rotation’s grace” to rotate anyway');
    const bad = await web.submit(operator, '/console/services/rotate-key', {
      ...(await web.rotationForm(operator, service.identifier)),
      grace_hours: '1.5',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('grace_hours: whole hours, from 0 to 720.');
    const list = await (await web.get('/console/services', operator.cookie)).text();
    expect(list).not.toContain(key);
  });

  it('deactivates and activates, renames, adds and removes a scope and a return address, each 303 back with its line', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const id = service.identifier;
    const step = async (path: string, form: Record<string, string>, line: string) => {
      const answer = await web.submit(operator, path, { id, ...form });
      expect(answer.status, path).toBe(303);
      const page = await (await web.get(answer.headers.get('Location') ?? '', operator.cookie)).text();
      expect(page, path).toContain(line);
      return page;
    };
    await step(
      '/console/services/state',
      { active: 'false' },
      `<strong>${id}</strong> is deactivated: its key is refused.`,
    );
    expect(await verifyStatus(service.key)).toBe(401);
    await step('/console/services/state', { active: 'true' }, `<strong>${id}</strong> is active: its key works again.`);
    await step(
      '/console/services/rename',
      { name: 'Now Renamed' },
      `<strong>${id}</strong> is now called Now Renamed.`,
    );
    await step('/console/services/edit', { add_scope: 'github:token' }, 'are changed.');
    await step('/console/services/edit', { add_redirect_uri: 'https://added.example.com/cb' }, 'are changed.');
    const page = await step(
      '/console/services/edit',
      { add_scope: 'github:token' },
      'Nothing changed: that was already so',
    );
    expect(page).toContain('<code>github:token</code>');
    expect(page).toContain('<code>https://added.example.com/cb</code>');
    await step('/console/services/edit', { remove_scope: 'github:token' }, 'are changed.');
    await step('/console/services/edit', { remove_redirect_uri: 'https://added.example.com/cb' }, 'are changed.');
    const bad = await web.submit(operator, '/console/services/edit', {
      id,
      add_redirect_uri: 'http://plain.example.com/cb',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('<h1>Not done</h1>');
    const renames = await changesAbout('services:rename', { serviceId: service.id });
    expect(renames.map((each) => each.actorUserId)).toEqual([operator.userId]);
  });

  it('deletes a service only through its confirmation page: the key is refused after, and it leaves the list', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const list = await (await web.get('/console/services', operator.cookie)).text();
    expect(list).toContain(
      `<a href="/console/services/delete?id=${service.identifier}">Delete ${service.identifier}…</a>`,
    );
    const confirm = await web.get(`/console/services/delete?id=${service.identifier}`, operator.cookie);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain(`Delete ${service.identifier} for good</button>`);
    const unconfirmed = await web.submit(operator, '/console/services/delete', { id: service.identifier });
    expect(unconfirmed.status).toBe(400);
    expect(await verifyStatus(service.key)).not.toBe(401);
    const deleted = await web.submit(operator, '/console/services/delete', { id: service.identifier, confirm: 'yes' });
    expect(deleted.status).toBe(303);
    const after = await (await web.get(deleted.headers.get('Location') ?? '', operator.cookie)).text();
    expect(after).toContain(`<strong>${service.identifier}</strong> is deleted.`);
    expect(after).not.toContain(`<code>${service.identifier}</code>`);
    expect(await verifyStatus(service.key)).toBe(401);
  });
});

describe('the Audit page', () => {
  it('lists change records newest first, linking to the service and the person, filtered by service and kind, paged', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    for (const name of ['First', 'Second', 'Third'])
      await web.submit(operator, '/console/services/rename', { id: service.identifier, name });
    const page = await (
      await web.get(`/console/audit?service=${service.identifier}&kind=change`, operator.cookie)
    ).text();
    const rows = [...page.matchAll(/<code>services:rename<\/code>/g)];
    expect(rows).toHaveLength(3);
    expect(page).toContain(`<a href="/console/audit?service=${service.identifier}">${service.identifier}</a>`);
    expect(page).toContain(`<a href="/console/audit?user_id=${operator.userId}">${operator.login}</a>`);
    const [newest] = await database.use((db) =>
      db
        .select({ at: changeRecords.createdAt })
        .from(changeRecords)
        .where(eq(changeRecords.subjectServiceId, service.id))
        .orderBy(desc(changeRecords.createdAt))
        .limit(1),
    );
    expect(page.indexOf(newest?.at.toISOString() ?? '-')).toBeGreaterThan(0);
    expect(page).not.toContain('rel="next"');
  });

  it('refuses a filter the admin API refuses (a time without a zone) with a 400 page saying why, and shows the form again', async () => {
    const operator = await web.signedInOperator();
    const answer = await web.get('/console/audit?since=2026-12-01T10:00', operator.cookie);
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('<p class="notice" role="alert">since: ');
    expect(page).toContain('value="2026-12-01T10:00"');
  });

  it('pages with the cursor: the next page’s link keeps the filters and shows the older rows', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    // More sign-in records of one service than a page shows (50), one per second back in time.
    const start = Date.now() - 3600_000;
    await database.use((db) =>
      db.insert(changeRecords).values(
        Array.from({ length: 55 }, (_, index) => ({
          id: crypto.randomUUID(),
          kind: 'sign-in',
          action: 'sign-in:refused',
          success: false,
          code: 'not_whitelisted',
          actorKind: 'operator',
          actorName: TEST_OPERATOR.actor.kind === 'operator' ? TEST_OPERATOR.actor.name : 'test',
          subjectServiceId: service.id,
          details: {},
          createdAt: new Date(start - index * 1000),
        })),
      ),
    );
    const filtered = `/console/audit?kind=sign-in&service=${service.identifier}`;
    const first = await (await web.get(filtered, operator.cookie)).text();
    const rowsOf = (page: string) => page.match(/<tr>\s*<td><time/g)?.length ?? 0;
    expect(rowsOf(first)).toBe(50);
    const next = /<a href="([^"]+)" rel="next">/.exec(first)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toContain('kind=sign-in');
    expect(next).toContain(`service=${service.identifier}`);
    const second = await (await web.get(next ?? '', operator.cookie)).text();
    expect(rowsOf(second)).toBe(5);
    expect(second).not.toMatch(/rel="next"/);
  });
});

describe('the console’s status line', () => {
  it('says the database is reachable, the migrations up to date, the last audit write, and no events failing', async () => {
    const operator = await web.signedInOperator();
    const page = await (await web.get('/console/services', operator.cookie)).text();
    expect(page).toContain(
      '<ul class="status" aria-label="Gateway status"><li>Database: reachable</li><li>Migrations: up to date</li><li>Last audit write: <time',
    );
  });

  it('names a service whose events have failed for over an hour', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    await database.use((db) =>
      db
        .update(serviceRegistry)
        .set({ eventsUrl: 'https://events.example.com/in', eventsFailingSince: new Date(Date.now() - 2 * 3600_000) })
        .where(eq(serviceRegistry.id, service.id)),
    );
    const page = await (await web.get('/console/audit', operator.cookie)).text();
    expect(page).toMatch(new RegExp(`<li class="bad">Events failing for over an hour: [^<]*${service.identifier}`));
  });
});
