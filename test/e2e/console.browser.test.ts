import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JourneyStack, startJourneyStack } from '../support/node/journey-stack.ts';
import { accessibilityViolations, tabTo } from '../support/node/page-checks.ts';

/**
 * The operator console (/console) in a real browser, through the whole stack as `npm run dev`
 * wires it: the first operator granted with `gateway users grant-operator` (a process, as the
 * README says), signing in with GitHub (the stand-in) like everyone else. Every console page is
 * checked by axe-core at desktop and phone widths, light and dark (with SCREENSHOTS=1 pictured
 * into docs/images/console-*.png), and the "Let in" and "Register" forms work with the keyboard.
 */
let journey: JourneyStack;

beforeAll(async () => {
  journey = await startJourneyStack();
}, 180_000);

afterAll(async () => {
  await journey?.close();
});

/** The stack's VERIFY_CACHE_SECONDS (wrangler.toml's; the stack's .dev.vars does not change it). */
const VERIFY_CACHE_SECONDS = Number(
  /^VERIFY_CACHE_SECONDS = "(\d+)"$/m.exec(readFileSync('wrangler.toml', 'utf8'))?.[1],
);

const h1 = (page: Page) => page.locator('h1').first().textContent();
/** Waits for the page's h1 to be `text` (a helper's wait: expect.poll works only inside a test). */
const headingIs = (page: Page, text: string) =>
  page.getByRole('heading', { level: 1, name: text, exact: true }).waitFor();
const consoleUrl = (path = '/console/people') => `${journey.stack.workerUrl}${path}`;

/**
 * A browser of its own (cookies included) for one person. GitHub's avatars (the one image origin
 * the pages' CSP allows) are answered by a plain circle: the test machine may have no internet.
 */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await journey.browser.newContext({ timezoneId: 'Europe/Paris' });
  await context.route('https://avatars.githubusercontent.com/**', (route) =>
    route.fulfill({
      contentType: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="16" fill="#8c959f"/></svg>',
    }),
  );
  return { context, page: await context.newPage() };
}

/** On the stand-in's authorize page: sign in as `login`, typed in. */
async function authorizeAs(page: Page, login: string): Promise<void> {
  await headingIs(page, 'Stand-in GitHub');
  await page.getByLabel('Or another login').fill(login);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The gateway's own sign-in, as `login`: the landing once admitted, else the pending page. */
async function signInAtGateway(page: Page, login: string): Promise<void> {
  await page.goto(journey.stack.workerUrl);
  await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
  await authorizeAs(page, login);
}

/** Someone signed in at Demo whom nothing admits: waiting on the access-pending page. */
async function pendingPerson(login: string): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await freshPage();
  await page.goto(journey.demo.url);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await authorizeAs(page, login);
  await headingIs(page, 'Access pending');
  return { context, page };
}

/**
 * An operator as the README makes the first one: they sign in once (pending), the operator runs
 * `gateway users whitelist LOGIN` and `gateway users grant-operator LOGIN`, and they sign in again.
 */
async function operator(login: string): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await freshPage();
  await signInAtGateway(page, login);
  await headingIs(page, 'Access pending');
  await journey.gateway('users', 'whitelist', login);
  await journey.gateway('users', 'grant-operator', login);
  await signInAtGateway(page, login);
  await headingIs(page, 'Signed in');
  return { context, page };
}

interface ListedPerson {
  id: string;
  github_id: string;
  login: string | null;
  admitted: boolean;
}

/** The person as `gateway users list --json` prints them. */
async function listed(login: string): Promise<ListedPerson> {
  const { people } = JSON.parse(await journey.gateway('users', 'list', '--json', '--limit', '500')) as {
    people: ListedPerson[];
  };
  const person = people.find((each) => each.login === login);
  if (!person) throw new Error(`${login} is not in gateway users list`);
  return person;
}

/** POST /v1/verify from the test (a service's side): status and JSON answer. */
async function verify(key: string, body: Record<string, string>): Promise<{ status: number; json: unknown }> {
  const answer = await fetch(`${journey.stack.workerUrl}/v1/verify`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(answer.headers.get('content-type')).toContain('application/json');
  return { status: answer.status, json: await answer.json() };
}

/** Registers a service on the Services page with the mouse; the key its answer shows once. */
async function registerService(page: Page, id: string, name: string): Promise<string> {
  await page.goto(consoleUrl('/console/services'));
  await page.getByLabel('Id (what the service calls itself by; it never changes)').fill(id);
  await page.getByLabel('Name people see').fill(name);
  await page.getByLabel('Return addresses, one a line').fill(`https://${id}.example/auth/done`);
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await headingIs(page, 'The new key');
  return page.getByLabel(`The key of ${id}`).inputValue();
}

/** The text of each row's cells of the Audit page's table. */
async function auditRows(page: Page): Promise<{ outcome: string; service: string }[]> {
  return page
    .locator('table tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => ({ outcome: row.children[3]?.textContent ?? '', service: row.children[4]?.textContent ?? '' })),
    );
}

/**
 * A page of another origin on the same site (localhost, another port: the gateway's SameSite=Lax
 * cookie travels with its POST) that posts a form to the console as soon as it opens.
 */
async function startCrossOriginPage(
  action: string,
  fields: Record<string, string>,
): Promise<{ url: string; server: Server }> {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  const body = `<!doctype html><html lang="en"><title>Win a prize</title><form method="post" action="${action}">${inputs}</form><script>document.forms[0].submit()</script></html>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/`, server };
}

describe('the operator console in Chromium', () => {
  let op: { context: BrowserContext; page: Page };
  const operatorLogin = 'ops-ada';

  beforeAll(async () => {
    op = await operator(operatorLogin);
  }, 60_000);

  afterAll(async () => {
    await op?.context.close();
  });

  it('an operator granted with `gateway users grant-operator` signs in with GitHub and opens /console: the People page', async () => {
    const answer = await op.page.goto(consoleUrl('/console'));
    expect(answer?.status()).toBe(200);
    expect(new URL(op.page.url()).pathname).toBe('/console/people');
    expect(await h1(op.page)).toBe('People');
    expect(await op.page.locator('p.viewer').textContent()).toBe(`Operator: ${operatorLogin}`);
    expect(await op.page.getByRole('navigation', { name: 'Console' }).textContent()).toContain('Audit');
  });

  it('a pending person is at the top of People; "Let in" admits them, and their "Try again" then lands at the service', async () => {
    const login = 'pending-grace';
    const person = await pendingPerson(login);
    await op.page.goto(consoleUrl());
    const first = op.page.locator('ul.people > li').first();
    expect(await first.textContent()).toContain(login);
    expect(await first.textContent()).toContain('on the way to Demo');

    await first.getByRole('button', { name: `Let in ${login}` }).click();
    await expect.poll(() => op.page.getByRole('status').textContent()).toBe(`${login} is let in.`);
    expect(await op.page.locator('ul.people > li', { hasText: login }).count()).toBe(0);
    expect((await listed(login)).admitted).toBe(true);

    await person.page.getByRole('link', { name: 'Try again' }).click();
    await authorizeAs(person.page, login);
    await expect.poll(() => person.page.locator('#who').textContent()).toBe(`Signed in as ${login}`);
    expect(new URL(person.page.url()).origin).toBe(journey.demo.url);
    await person.context.close();
  });

  it('registers a service (the key shown once), whose key answers /v1/verify with 200 JSON; a rotation gives a new key that works, and the old one (no grace) is refused', async () => {
    const key = await registerService(op.page, 'ledger', 'Ledger');
    expect(await op.page.getByRole('status').textContent()).toBe('ledger is registered.');
    const me = await listed(operatorLogin);
    const first = await verify(key, { user_id: me.id });
    expect(first).toEqual({ status: 200, json: expect.objectContaining({ valid: true, code: 'ok' }) });

    // Never shown again: not on the Services page.
    await op.page.goto(consoleUrl('/console/services'));
    expect(await op.page.content()).not.toContain(key);

    const section = op.page.getByRole('region', { name: /^Ledger ledger$/ });
    await section.getByLabel('Old key works for (hours)').fill('0');
    await section.getByRole('button', { name: 'Rotate the key of ledger' }).click();
    await expect.poll(() => h1(op.page)).toBe('The new key');
    expect(await op.page.getByRole('status').textContent()).toBe(
      `The key of ledger is rotated; the old key is refused from now on: at once on this instance, and everywhere within ${VERIFY_CACHE_SECONDS} seconds.`,
    );
    const rotated = await op.page.getByLabel('The key of ledger').inputValue();
    expect(rotated).not.toBe(key);
    expect(await verify(rotated, { user_id: me.id })).toEqual({
      status: 200,
      json: expect.objectContaining({ valid: true, code: 'ok' }),
    });
    // Refused everywhere within VERIFY_CACHE_SECONDS (docs/api.md, "How fresh is the answer?").
    await expect
      .poll(async () => (await verify(key, { user_id: me.id })).status, {
        timeout: (VERIFY_CACHE_SECONDS + 5) * 1000,
        interval: 500,
      })
      .toBe(401);
  }, 60_000);

  it('filters the audit log by service and by outcome: only the matching rows', async () => {
    // Ledger's calls (above) succeeded; one more of its calls that fails, and Demo's own rows.
    const key = await registerService(op.page, 'journal', 'Journal');
    const me = await listed(operatorLogin);
    expect((await verify(key, { user_id: me.id })).status).toBe(200);
    expect((await verify(key, { user_id: '00000000-0000-4000-8000-000000000000' })).json).toMatchObject({
      valid: false,
      code: 'unknown_user',
    });

    await op.page.goto(consoleUrl('/console/audit'));
    const everything = await auditRows(op.page);
    expect(everything.some((row) => row.service !== 'journal')).toBe(true);

    await op.page.getByLabel('Service id').fill('journal');
    await op.page.getByRole('button', { name: 'Filter' }).click();
    await op.page.waitForURL('**/console/audit?**');
    // The calls' rows reach the table through the audit queue, in batches: reload until they are there.
    await expect
      .poll(
        async () => {
          await op.page.reload();
          return (await auditRows(op.page)).filter((row) => row.outcome !== '').length;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(3);
    const journal = await auditRows(op.page);
    expect(journal.every((row) => row.service === 'journal')).toBe(true);
    expect(journal.some((row) => row.outcome.startsWith('failed'))).toBe(true);

    await op.page.getByLabel('Outcome').selectOption({ label: 'failed' });
    await op.page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(op.page.url()).searchParams.get('success')).toBe('false');
    const failed = await auditRows(op.page);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.every((row) => row.service === 'journal' && row.outcome.startsWith('failed'))).toBe(true);

    await op.page.getByLabel('Outcome').selectOption({ label: 'succeeded' });
    await op.page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => new URL(op.page.url()).searchParams.get('success')).toBe('true');
    const succeeded = await auditRows(op.page);
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    expect(succeeded.every((row) => row.service === 'journal' && row.outcome === 'succeeded')).toBe(true);
  });

  it('a cross-site form post (a page of another origin posting to /console) gets the 403 page and lets no one in', async () => {
    const login = 'pending-mallory-target';
    const person = await pendingPerson(login);
    const { github_id } = await listed(login);
    const attacker = await startCrossOriginPage(consoleUrl('/console/people/let-in'), {
      github_id,
      csrf: 'guessed',
    });
    try {
      const refused = op.page.waitForResponse((response) => response.url().endsWith('/console/people/let-in'));
      await op.page.goto(attacker.url);
      expect((await refused).status()).toBe(403);
      await expect.poll(() => h1(op.page)).toBe('Not done');
      expect(await op.page.textContent('main')).toContain('csrf_refused');
      expect((await listed(login)).admitted).toBe(false);
      await op.page.goto(consoleUrl());
      expect(await op.page.locator('ul.people').textContent()).toContain(login);
    } finally {
      attacker.server.close();
      await person.context.close();
    }
  });
});

describe('who the console refuses', () => {
  it("a signed-in, admitted person without the grant opening /console gets the gateway's 404 page", async () => {
    const { context, page } = await freshPage();
    await signInAtGateway(page, 'not-an-operator');
    await journey.gateway('users', 'whitelist', 'not-an-operator');
    await signInAtGateway(page, 'not-an-operator');
    await expect.poll(() => h1(page)).toBe('Signed in');
    const unknown = await page.goto(`${journey.stack.workerUrl}/no-such-page`);
    const unknownMain = await page.textContent('main');
    for (const path of ['/console', '/console/people', '/console/services', '/console/audit']) {
      const answer = await page.goto(consoleUrl(path));
      expect(answer?.status(), path).toBe(404);
      expect(await h1(page)).toBe('Page not found');
      expect(await page.textContent('main')).toBe(unknownMain);
    }
    expect(unknown?.status()).toBe(404);
    await context.close();
  });

  it('an operator whose grant is removed with `gateway users revoke-operator` is refused (404) within VERIFY_CACHE_SECONDS', async () => {
    expect(VERIFY_CACHE_SECONDS).toBeGreaterThan(0);
    const login = 'ops-revoked';
    const { context, page } = await operator(login);
    expect((await page.goto(consoleUrl()))?.status()).toBe(200);
    await journey.gateway('users', 'revoke-operator', login);
    // Refused once this isolate's cached grant (VERIFY_CACHE_SECONDS) runs out; the poll's limit
    // adds a few seconds for page loads on a loaded machine, no more.
    await expect
      .poll(async () => (await page.goto(consoleUrl()))?.status(), {
        timeout: (VERIFY_CACHE_SECONDS + 5) * 1000,
        interval: 500,
      })
      .toBe(404);
    expect(await h1(page)).toBe('Page not found');
    await context.close();
  }, 60_000);
});

describe('the keyboard alone', () => {
  /** Presses Tab until the field with this id has the focus (a field has no text to name it by). */
  async function tabToField(page: Page, id: string, limit = 60): Promise<void> {
    for (let presses = 0; presses < limit; presses += 1) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
    }
    throw new Error(`Tab never reached #${id} on ${page.url()}`);
  }

  it('"Let in" (Tab to the button, Enter) and "Register" (Tab through its fields, type, Enter) work', async () => {
    const login = 'pending-keys';
    const person = await pendingPerson(login);
    const { context, page } = await operator('ops-keys');
    await page.goto(consoleUrl());
    await tabTo(page, `Let in ${login}`, 80);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').textContent()).toBe(`${login} is let in.`);
    expect((await listed(login)).admitted).toBe(true);

    await page.goto(consoleUrl('/console/services'));
    await tabToField(page, 'new-id', 200);
    await page.keyboard.type('keyboard-svc');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Keyboard');
    await tabTo(page, 'Register', 5);
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('The new key');
    expect(await page.getByRole('status').textContent()).toBe('keyboard-svc is registered.');
    await context.close();
    await person.context.close();
  }, 90_000);
});

/**
 * What sticks out of a 390 px screen (the page scrolls sideways), outside the tables' own
 * scrolling boxes: each element as tag.class and the start of its text; [] when nothing does.
 */
async function widerThanAPhone(page: Page): Promise<string[]> {
  await page.setViewportSize({ width: 390, height: 844 });
  const found = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return [...document.querySelectorAll('body *')]
      .filter((element) => element.getBoundingClientRect().right > width + 0.5 && !element.closest('div.table'))
      .map(
        (element) =>
          `${element.tagName.toLowerCase()}${[...element.classList].map((name) => `.${name}`).join('')}: ${(element.textContent ?? '').trim().slice(0, 40)}`,
      )
      .slice(0, 10);
  });
  await page.setViewportSize({ width: 1280, height: 720 });
  return found;
}

describe('every console page passes axe-core at 1280 and 390 px, light and dark, and fits a 390 px screen', () => {
  let op: { context: BrowserContext; page: Page };

  beforeAll(async () => {
    op = await operator('ops-axe');
    // Someone waiting, to show at the top of People.
    const waiting = await pendingPerson('pending-linus');
    await waiting.context.close();
  }, 60_000);

  afterAll(async () => {
    await op?.context.close();
  });

  it('People', async () => {
    await op.page.goto(consoleUrl());
    expect(await h1(op.page)).toBe('People');
    expect(await accessibilityViolations(op.page, 'console-people')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it("a service's key, shown once", async () => {
    await registerService(op.page, 'reports', 'Reports');
    expect(await accessibilityViolations(op.page, 'console-key')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it('Services', async () => {
    await op.page.goto(consoleUrl('/console/services'));
    expect(await h1(op.page)).toBe('Services');
    expect(await accessibilityViolations(op.page, 'console-services')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it("a service's delete confirmation", async () => {
    await op.page.getByRole('link', { name: 'Delete reports…' }).click();
    await expect.poll(() => h1(op.page)).toBe('Delete Reports (reports)?');
    expect(await accessibilityViolations(op.page, 'console-delete')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it('Audit', async () => {
    await op.page.goto(consoleUrl('/console/audit'));
    expect(await h1(op.page)).toBe('Audit');
    expect(await accessibilityViolations(op.page, 'console-audit')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it('"Not done": a change the console refuses (a second registration of one id)', async () => {
    await op.page.goto(consoleUrl('/console/services'));
    await op.page.getByLabel('Id (what the service calls itself by; it never changes)').fill('reports');
    await op.page.getByLabel('Name people see').fill('Reports again');
    await op.page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect.poll(() => h1(op.page)).toBe('Not done');
    expect(await accessibilityViolations(op.page, 'console-not-done')).toEqual([]);
    expect(await widerThanAPhone(op.page)).toEqual([]);
  });

  it('the 403 page of a refused form post', async () => {
    const attacker = await startCrossOriginPage(consoleUrl('/console/services/delete'), {
      id: 'reports',
      confirm: 'yes',
    });
    try {
      await op.page.goto(attacker.url);
      await expect.poll(() => h1(op.page)).toBe('Not done');
      expect(await op.page.textContent('main')).toContain('csrf_refused');
      expect(await accessibilityViolations(op.page, 'console-refused')).toEqual([]);
      expect(await widerThanAPhone(op.page)).toEqual([]);
    } finally {
      attacker.server.close();
    }
  });
});
