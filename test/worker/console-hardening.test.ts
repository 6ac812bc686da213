import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, operatorGrants, serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import { setOperatorGrant } from '../../src/users/operator-grant.ts';
import { setWhitelisted } from '../../src/users/whitelist.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { type ConsoleOperatorSession, consoleClient } from '../support/worker/console.ts';
import { callService, gatewayCookie, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let web: ReturnType<typeof consoleClient>;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  web = consoleClient(database);
});

/** The same Worker with the isolate caches on: what a removed grant or a rotated key may meet. */
const cachedEnv = () => ({ ...database.env, VERIFY_CACHE_SECONDS: '60' });

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Origin: 'https://gateway.test' };

async function githubIdOf(userId: string): Promise<string> {
  const [row] = await database.use((db) =>
    db.select({ githubId: users.githubUserId }).from(users).where(eq(users.id, userId)),
  );
  return row?.githubId ?? '';
}

async function isWhitelisted(userId: string): Promise<boolean> {
  const [row] = await database.use((db) =>
    db.select({ on: users.isWhitelisted }).from(users).where(eq(users.id, userId)),
  );
  return row?.on ?? false;
}

async function holdsGrant(userId: string): Promise<boolean> {
  const rows = await database.use((db) =>
    db.select({ userId: operatorGrants.userId }).from(operatorGrants).where(eq(operatorGrants.userId, userId)),
  );
  return rows.length > 0;
}

/** The gateway session id inside the operator's cookie (`gws_<id>.<expiry>.<mac>`). */
function sessionIdOf(operator: ConsoleOperatorSession): string {
  const id = /gws_([0-9a-f-]{36})\./.exec(operator.cookie)?.[1];
  if (!id) throw new Error('no session id in the cookie');
  return id;
}

/** The operator has seen a console page with the caches on: this isolate now trusts their grant and session. */
async function warmed(): Promise<{ operator: ConsoleOperatorSession; csrf: string }> {
  const operator = await web.signedInOperator(cachedEnv());
  const csrf = await web.csrfOf(operator);
  expect((await web.get('/console/people', operator.cookie, cachedEnv())).status).toBe(200);
  return { operator, csrf };
}

const postCached = (operator: ConsoleOperatorSession, path: string, form: Record<string, string>) =>
  web.post(path, operator.cookie, form, SAME_ORIGIN, cachedEnv());

describe('a console POST re-reads the operator from the primary, never the isolate cache', () => {
  it('a POST just after the grant was removed (as the command does) changes nothing and answers 404, even within VERIFY_CACHE_SECONDS', async () => {
    const { operator, csrf } = await warmed();
    await database.use((db) => setOperatorGrant(db, { login: operator.login }, false, TEST_OPERATOR));
    const githubId = await githubIdOf(operator.userId);
    const regrant = await postCached(operator, '/console/people/operator', {
      csrf,
      github_id: githubId,
      grant: 'true',
    });
    expect(regrant.status).toBe(404);
    expect(await holdsGrant(operator.userId)).toBe(false);
    const id = `grab-${crypto.randomUUID().slice(0, 8)}`;
    const register = await postCached(operator, '/console/services/register', {
      csrf,
      id,
      name: 'Grab',
      scopes: 'users:verify',
    });
    expect(register.status).toBe(404);
    const services = await database.use((db) =>
      db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, id)),
    );
    expect(services).toEqual([]);
  });

  it('a POST just after the operator is no longer admitted (unwhitelisted as the command does) changes nothing and answers 404', async () => {
    const { operator, csrf } = await warmed();
    await database.use((db) => setWhitelisted(db, { login: operator.login }, false, TEST_OPERATOR));
    const githubId = await githubIdOf(operator.userId);
    const letSelfIn = await postCached(operator, '/console/people/let-in', { csrf, github_id: githubId });
    expect(letSelfIn.status).toBe(404);
    expect(await isWhitelisted(operator.userId)).toBe(false);
  });

  it('a POST just after the operator’s session was revoked on another instance changes nothing and answers 404', async () => {
    const { operator, csrf } = await warmed();
    await database.use((db) =>
      db
        .update(sessions)
        .set({ revokedAt: new Date() })
        .where(eq(sessions.id, sessionIdOf(operator))),
    );
    const service = await registerService(database);
    const answer = await postCached(operator, '/console/services/state', {
      csrf,
      id: service.identifier,
      active: 'false',
    });
    expect(answer.status).toBe(404);
    const [row] = await database.use((db) =>
      db.select({ active: serviceRegistry.isActive }).from(serviceRegistry).where(eq(serviceRegistry.id, service.id)),
    );
    expect(row?.active).toBe(true);
  });
});

describe('the console’s flash lines', () => {
  it('a made-up Services link (a deletion of a service that never existed, a rename) shows no message', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    for (const link of [
      '/console/services?done=deleted&service=Your+account+is+compromised',
      `/console/services?done=renamed&service=${service.identifier}`,
    ]) {
      const page = await (await web.get(link, operator.cookie)).text();
      expect(page, link).not.toContain('class="notice"');
    }
  });

  it('a made-up People link (a sign-out of any text, a rule removed, no one found) shows no message', async () => {
    const operator = await web.signedInOperator();
    const githubId = await githubIdOf(operator.userId);
    for (const link of [
      `/console/people?done=signed_out_service&github_id=${githubId}&service=Call+555-0100+now`,
      `/console/people?done=rule_removed&rule_id=${crypto.randomUUID()}`,
      '/console/people?done=not_found&github_id=12345',
    ]) {
      const page = await (await web.get(link, operator.cookie)).text();
      expect(page, link).not.toContain('class="notice"');
    }
  });

  it('a flash link another operator’s POST was sent to shows no message in this operator’s session', async () => {
    const operator = await web.signedInOperator();
    const other = await web.signedInOperator();
    const service = await registerService(database);
    const renamed = await web.submit(other, '/console/services/rename', { id: service.identifier, name: 'Renamed' });
    const link = renamed.headers.get('Location') ?? '';
    expect(await (await web.get(link, other.cookie)).text()).toContain('is now called Renamed.');
    expect(await (await web.get(link, operator.cookie)).text()).not.toContain('class="notice"');
  });
});

describe('the console’s inputs and pages', () => {
  it('refuses a sign-out whose service field holds a NUL with a 400 “Not done” page', async () => {
    const operator = await web.signedInOperator();
    const githubId = await githubIdOf(operator.userId);
    const answer = await web.submit(operator, '/console/people/sign-out', { github_id: githubId, service: 'a\u0000b' });
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page).toContain('<h1>Not done</h1>');
    expect(page).toContain('Error code: invalid_body');
  });

  it('answers the confirmation of deleting an unknown service with the console’s own 404 “Not done” page', async () => {
    const operator = await web.signedInOperator();
    const answer = await web.get('/console/services/delete?id=no-such-service', operator.cookie);
    expect(answer.status).toBe(404);
    const page = await answer.text();
    expect(page).toContain('<h1>Not done</h1>');
    expect(page).toContain('aria-label="Console"');
    expect(page).toContain('Error code: unknown_service');
    expect(page).not.toContain('Sign-in did not work');
  });
});

describe('the console gate, further', () => {
  it('answers a visitor with a gateway cookie as an unknown path (404, not the 503 page) while the database is down', async () => {
    const login = uniqueLogin('outage');
    await signIn(database.env, login);
    await whitelist(database, login);
    const cookie = await gatewayCookie(database, login);
    const url = new URL(database.url);
    url.port = '1';
    const down = { ...database.env, DATABASE_URL: url.toString() };
    const unknown = await callWorker(database.env, '/no-such-page', { headers: { Accept: 'text/html' } });
    const answer = await web.get('/console/people', cookie, down);
    expect(answer.status).toBe(404);
    expect(await answer.text()).toBe(await unknown.text());
  });

  it('refuses (404) an operator whose console session is older than 12 hours, and lets in one of 11 hours', async () => {
    const operator = await web.signedInOperator();
    const ageTo = (hours: number) =>
      database.use((db) =>
        db
          .update(sessions)
          .set({ createdAt: new Date(Date.now() - hours * 3600_000) })
          .where(eq(sessions.id, sessionIdOf(operator))),
      );
    await ageTo(11);
    expect((await web.get('/console/people', operator.cookie)).status).toBe(200);
    await ageTo(12.01);
    expect((await web.get('/console/people', operator.cookie)).status).toBe(404);
  });
});

describe('rotating a key from the console', () => {
  it('a resubmitted rotation (the same form again) is refused with a 409 page, and the key it made keeps working', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const form = { ...(await web.rotationForm(operator, service.identifier)), grace_hours: '0' };
    const first = await web.submit(operator, '/console/services/rotate-key', form);
    expect(first.status).toBe(200);
    const key = /<input id="new-key" class="key" readonly value="([^"]+)"/.exec(await first.text())?.[1] ?? '';
    const again = await web.submit(operator, '/console/services/rotate-key', form);
    expect(again.status).toBe(409);
    const page = await again.text();
    expect(page).toContain('<h1>Not done</h1>');
    expect(page).toContain('Error code: key_changed');
    expect((await callService(database, '/v1/verify', key, { user_id: crypto.randomUUID() })).status).not.toBe(401);
    const rotations = await database.use((db) =>
      db
        .select({ id: changeRecords.id })
        .from(changeRecords)
        .where(and(eq(changeRecords.subjectServiceId, service.id), eq(changeRecords.action, 'services:rotate-key'))),
    );
    expect(rotations).toHaveLength(1);
  });

  it('after a rotation with no grace, the old key is refused at once on this instance, and the page says within how long everywhere', async () => {
    const cached = cachedEnv();
    const operator = await web.signedInOperator();
    const service = await registerService(database);
    const verifyOld = () =>
      callService({ ...database, env: cached }, '/v1/verify', service.key, { user_id: crypto.randomUUID() });
    // This isolate has verified the old key, and caches that for 60 s.
    expect((await verifyOld()).status).not.toBe(401);
    const form = { ...(await web.rotationForm(operator, service.identifier)), grace_hours: '0' };
    const rotated = await web.submit(operator, '/console/services/rotate-key', form, cached);
    expect(rotated.status).toBe(200);
    expect(await rotated.text()).toContain(
      'the old key is refused from now on: at once on this instance, and everywhere within 60 seconds.',
    );
    expect((await verifyOld()).status).toBe(401);
  });
});

describe('the console’s change records', () => {
  it('say via console: an operator’s sign-out of a person is told apart from the person’s own', async () => {
    const operator = await web.signedInOperator();
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const person = await signedInPerson(database, service);
    const answer = await web.submit(operator, '/console/people/sign-out', {
      github_id: await githubIdOf(person.userId),
      service: service.identifier,
    });
    expect(answer.status).toBe(303);
    const records = await database.use((db) =>
      db
        .select({ details: changeRecords.details })
        .from(changeRecords)
        .where(and(eq(changeRecords.subjectUserId, person.userId), eq(changeRecords.action, 'sign-out:service'))),
    );
    expect(records).toEqual([{ details: { sessions_ended: 1, via: 'console' } }]);
  });
});
