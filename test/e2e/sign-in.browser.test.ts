import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevStack, startDevStack } from '../../scripts/lib/dev/dev-stack.ts';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { openNodeDatabase } from '../../scripts/lib/node-database.ts';
import { registerService } from '../../src/services/register-service.ts';
import { setWhitelisted } from '../../src/users/whitelist.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { launchChromium } from '../support/node/browser.ts';
import { createDatabase } from '../support/node/databases.ts';
import { type DemoService, startDemoService } from '../support/node/demo-service.ts';

/**
 * A person in a real browser (Chromium, test/support/node/browser.ts, driven by playwright-core)
 * against the gateway as `npm run dev` wires it: wrangler dev, the bridge, the stand-in GitHub, and a
 * demo service.
 */
let stack: DevStack;
let demo: DemoService;
let browser: Browser;
let databaseUrl: string;
let serviceKey = '';

beforeAll(async () => {
  databaseUrl = await createDatabase({ migrated: true });
  const root = await mkdtemp(path.join(tmpdir(), 'gateway-e2e-'));
  stack = await startDevStack({
    rootDir: path.resolve('.'),
    workerPort: await findFreePort(),
    postgresPort: await findFreePort(),
    bridgePort: await findFreePort(),
    standInGitHubPort: await findFreePort(),
    dataDir: path.join(root, 'pgdata'),
    devVarsFile: path.join(root, '.dev.vars'),
    externalDatabaseUrl: databaseUrl,
    log: () => {},
  });
  demo = await startDemoService({ gatewayUrl: stack.workerUrl, serviceId: 'demo', key: () => serviceKey });
  const database = await openNodeDatabase(databaseUrl);
  try {
    serviceKey = (
      await registerService(
        database.db,
        {
          identifier: 'demo',
          displayName: 'Demo',
          scopes: ['users:verify'],
          redirectUris: [demo.redirectUri],
        },
        TEST_OPERATOR,
      )
    ).key;
  } finally {
    await database.close();
  }
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await stack?.stop();
});

describe('signing in with a browser', () => {
  it('sees the pending page first, then, once whitelisted, lands on the service signed in', async () => {
    const page = await browser.newPage();
    await page.goto(demo.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in as octocat' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Access pending');
    expect(await page.textContent('main')).toContain('octocat');
    await page.screenshot({ path: path.join(tmpdir(), 'gateway-e2e-pending.png') });

    const database = await openNodeDatabase(databaseUrl);
    try {
      expect(await setWhitelisted(database.db, { login: 'octocat' }, true, TEST_OPERATOR)).not.toBeNull();
    } finally {
      await database.close();
    }

    await page.goto(demo.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in as octocat' }).click();
    await expect.poll(() => page.locator('#who').textContent()).toBe('Signed in as octocat');
    expect(await page.textContent('#session')).toBe('gws_');
    expect(new URL(page.url()).origin).toBe(demo.url);
    await page.screenshot({ path: path.join(tmpdir(), 'gateway-e2e-signed-in.png') });
    await page.close();
  }, 60_000);

  it("signs in on the gateway's own page and out again: the browser keeps the __Host- cookie", async () => {
    // octocat was whitelisted by the test above.
    const page = await browser.newPage();
    await page.goto(stack.workerUrl);
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.getByRole('button', { name: 'Sign in as octocat' }).click();
    await expect.poll(() => page.textContent('main')).toContain('You are signed in as octocat');
    const cookies = await page.context().cookies(stack.workerUrl);
    expect(cookies.map((cookie) => cookie.name)).toContain('__Host-gw_session');
    // The test above signed octocat in to Demo: the landing lists it, and signs them out of it alone.
    await page.getByRole('button', { name: 'Sign out of Demo' }).click();
    await expect
      .poll(() => page.textContent('main'))
      .toContain('You are not signed in to any service through this gateway.');
    expect(await page.textContent('main')).toContain('You are signed in as octocat');
    // The page's own sign-out form: a real browser's same-origin POST (this was refused as
    // cross-site while pages said Referrer-Policy: no-referrer, which makes Origin "null").
    await page.getByRole('button', { name: 'Sign out of this gateway' }).click();
    await expect.poll(() => page.textContent('main')).toContain('Signed out');
    await page.goto(stack.workerUrl);
    expect(await page.textContent('main')).toContain('Sign in with GitHub');
    await page.close();
  }, 60_000);

  it('the example service: a cancelled sign-in shows error and gateway_error; signed in, "Sign out" revokes the session at the gateway', async () => {
    // octocat was whitelisted by the first test.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(demo.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(`${demo.redirectUri}?**`);
    expect(await page.textContent('#error')).toBe('access_denied');
    expect(await page.textContent('#answer-gateway_error')).toBe('github_denied');

    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in as octocat' }).click();
    await expect.poll(() => page.locator('#who').textContent()).toBe('Signed in as octocat');
    const session = (await context.cookies(demo.url)).find((cookie) => cookie.name === 'demo_session')?.value ?? '';
    expect(session).toMatch(/^gws_/);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.textContent('main')).toContain('You are not signed in.');
    expect((await context.cookies(demo.url)).map((cookie) => cookie.name)).not.toContain('demo_session');
    const verdict = await fetch(`${stack.workerUrl}/v1/verify`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${serviceKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    expect(((await verdict.json()) as { code: string }).code).toBe('revoked_session');
    await context.close();
  }, 60_000);
});
