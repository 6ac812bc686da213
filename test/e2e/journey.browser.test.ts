import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JourneyStack, startJourneyStack } from '../support/node/journey-stack.ts';
import { accessibilityViolations, tabTo } from '../support/node/page-checks.ts';

/**
 * The person's journey in a real browser (Chromium driven by playwright-core) through the gateway
 * as `npm run dev` wires it, with two demo services: every page they can reach is checked by
 * axe-core at desktop and phone widths, light and dark (with SCREENSHOTS=1 it is also pictured
 * into docs/images: `npm run screenshots`), and signing in and out works with the keyboard alone.
 */
let journey: JourneyStack;

beforeAll(async () => {
  journey = await startJourneyStack();
}, 180_000);

afterAll(async () => {
  await journey?.close();
});

/** A browser of its own (cookies included) for one person. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await journey.browser.newContext();
  return { context, page: await context.newPage() };
}

const h1 = (page: Page) => page.locator('h1').first().textContent();

/** From a service's page to the stand-in GitHub's authorize page. */
async function startAt(page: Page, serviceUrl: string): Promise<void> {
  await page.goto(serviceUrl);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await expect.poll(() => h1(page)).toBe('Stand-in GitHub');
}

/** The gateway's own sign-in, as `login`, from its first page. */
async function signInAtGateway(page: Page, login: string): Promise<void> {
  await page.goto(journey.stack.workerUrl);
  await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
  await page.getByRole('button', { name: `Sign in as ${login}` }).click();
}

describe("the person's journey", () => {
  it.todo('cancelled at GitHub: back at the service with error=access_denied and the state it sent');

  it.todo(
    'pending: the pending page names the service and its back link returns there with access_denied and the state; once let in, reloading the pending page continues to the service signed in',
  );

  it.todo(
    'the landing has one line for each of two services; "Sign out of Demo" confirms it and leaves Wiki; signing out of every service ends the rest',
  );
});

describe("the stand-in GitHub's authorize page in Chromium", () => {
  it("checks the login field against GitHub's login rule (Chromium accepts its pattern)", async () => {
    const { context, page } = await freshPage();
    const warnings: string[] = [];
    page.on('console', (message) => warnings.push(message.text()));
    await startAt(page, journey.demo.url);
    const field = page.getByRole('textbox', { name: 'Or another login' });
    await field.fill('-not-a-login');
    expect(await field.evaluate((input: HTMLInputElement) => input.validity.patternMismatch)).toBe(true);
    await field.fill('mona-lisa');
    expect(await field.evaluate((input: HTMLInputElement) => input.validity.valid)).toBe(true);
    expect(warnings.filter((line) => line.includes('pattern'))).toEqual([]);
    await context.close();
  });
});

describe('the keyboard alone', () => {
  it('signs in at the gateway (Tab to the button, Enter) and signs out again', async () => {
    // monalisa is let in after a first sign-in with the mouse: the keyboard part starts after that.
    const { context, page } = await freshPage();
    await signInAtGateway(page, 'monalisa');
    await journey.whitelist('monalisa');
    await context.clearCookies();

    await page.goto(journey.stack.workerUrl);
    await tabTo(page, 'Sign in with GitHub');
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('Stand-in GitHub');
    await tabTo(page, 'Sign in as monalisa');
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('Signed in');
    expect(await page.textContent('main')).toContain('monalisa');

    await tabTo(page, /^Sign out( of this gateway)?$/);
    await page.keyboard.press('Enter');
    await expect.poll(() => h1(page)).toBe('Signed out');
    await page.goto(journey.stack.workerUrl);
    expect(await h1(page)).toBe('Sign in');
    await context.close();
  });
});

describe('every page passes axe-core at 1280 and 390 px, light and dark', () => {
  let page: Page;
  let context: BrowserContext;

  beforeAll(async () => {
    ({ context, page } = await freshPage());
  });

  afterAll(async () => {
    await context?.close();
  });

  it('the sign-in page', async () => {
    await page.goto(journey.stack.workerUrl);
    expect(await h1(page)).toBe('Sign in');
    expect(await accessibilityViolations(page, 'sign-in')).toEqual([]);
  });

  it("the stand-in GitHub's authorize page", async () => {
    await startAt(page, journey.demo.url);
    expect(await accessibilityViolations(page, 'github-authorize')).toEqual([]);
  });

  it('the pending page', async () => {
    await startAt(page, journey.demo.url);
    await page.getByRole('button', { name: 'Sign in as hubot' }).click();
    await expect.poll(() => h1(page)).toBe('Access pending');
    expect(await accessibilityViolations(page, 'pending')).toEqual([]);
  });

  it('the landing, signed in to two services', async () => {
    await page.context().clearCookies();
    // monalisa was let in by the keyboard test; sign in to both services, then to the gateway.
    for (const service of [journey.demo, journey.wiki]) {
      await startAt(page, service.url);
      await page.getByRole('button', { name: 'Sign in as monalisa' }).click();
      await expect.poll(() => page.locator('#who').textContent()).toBe('Signed in as monalisa');
    }
    await signInAtGateway(page, 'monalisa');
    await expect.poll(() => h1(page)).toBe('Signed in');
    expect(await page.textContent('main')).toContain('Wiki');
    expect(await accessibilityViolations(page, 'landing')).toEqual([]);
  });

  it('the landing after signing out of one service', async () => {
    await page.getByRole('button', { name: 'Sign out of Demo' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Sign out of Demo' }).count()).toBe(0);
    expect(await accessibilityViolations(page, 'landing-signed-out-of-one')).toEqual([]);
  });

  it('the signed-out page', async () => {
    await page.getByRole('button', { name: /everywhere|every service/ }).click();
    await expect.poll(() => h1(page)).toBe('Signed out');
    expect(await accessibilityViolations(page, 'signed-out')).toEqual([]);
  });

  it('the error page for a malformed sign-in link', async () => {
    await page.goto(`${journey.stack.workerUrl}/login?code_challenge=abc`);
    expect(await page.textContent('main')).toContain('invalid_request');
    expect(await accessibilityViolations(page, 'error-malformed-link')).toEqual([]);
  });

  it('the error page for a return address the service did not register', async () => {
    await page.goto(
      `${journey.stack.workerUrl}/login?service=demo&redirect_uri=${encodeURIComponent('https://elsewhere.example/callback')}&state=s`,
    );
    expect(await page.textContent('main')).toContain('redirect_uri');
    expect(await accessibilityViolations(page, 'error-unregistered-return')).toEqual([]);
  });

  it('the error page for an expired sign-in (no attempt cookie)', async () => {
    await page.context().clearCookies();
    await page.goto(`${journey.stack.workerUrl}/auth/github/callback?code=abc&state=xyz`);
    expect(await page.textContent('main')).toContain('sign_in_expired');
    expect(await accessibilityViolations(page, 'error-expired')).toEqual([]);
  });

  it.todo('the not-found page a browser gets for an unknown path');
});
