import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/**
 * The ways a person sees a page: a desktop and a phone width, light and dark. Each page the
 * browser tests reach is checked by axe-core in all four.
 */
export const VIEWS = [
  { name: 'desktop-light', width: 1280, height: 720, colorScheme: 'light' },
  { name: 'desktop-dark', width: 1280, height: 720, colorScheme: 'dark' },
  { name: 'phone-light', width: 390, height: 844, colorScheme: 'light' },
  { name: 'phone-dark', width: 390, height: 844, colorScheme: 'dark' },
] as const;

/** The pictures docs/images keeps of each page (README.md, "The person's journey"). */
const PICTURED_VIEWS = new Set<string>(['desktop-light', 'phone-dark']);
export const IMAGES_DIR = path.resolve('docs/images');

/** Pictures are written only when asked (`npm run screenshots`), so `npm test` leaves docs/images alone. */
export const TAKING_SCREENSHOTS = process.env.SCREENSHOTS === '1';

/**
 * Runs axe-core on the page as it is now, in every view, and (with SCREENSHOTS=1, unless
 * `pictured: false`) writes its pictures as docs/images/<name>-<view>.png. Returns one line per violation, naming the view, the
 * rule and the elements, so a failing test says what to fix; [] when there is none.
 */
export async function accessibilityViolations(
  page: Page,
  name: string,
  options: { pictured?: boolean } = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const view of VIEWS) {
    await page.setViewportSize({ width: view.width, height: view.height });
    await page.emulateMedia({ colorScheme: view.colorScheme });
    const results = await new AxeBuilder({ page }).analyze();
    for (const violation of results.violations) {
      const targets = violation.nodes.map((node) => node.target.join(' ')).join(', ');
      found.push(`${name} ${view.name}: ${violation.id} (${violation.impact}) at ${targets}: ${violation.help}`);
    }
    if (TAKING_SCREENSHOTS && options.pictured !== false && PICTURED_VIEWS.has(view.name))
      await picture(page, `${name}-${view.name}`, view.width);
  }
  // Back to the browser's defaults for whatever the test does next.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}

/**
 * The page as tall as its content (a short viewport, then the full page), so the committed
 * pictures carry no empty screen below the text.
 */
async function picture(page: Page, file: string, width: number): Promise<void> {
  await mkdir(IMAGES_DIR, { recursive: true });
  await page.setViewportSize({ width, height: 200 });
  await page.screenshot({ path: path.join(IMAGES_DIR, `${file}.png`), fullPage: true });
}

/**
 * Presses Tab until the focused element is the link or button named `name` (at most `limit`
 * times), so a test reaches it with the keyboard alone, as a person would. Throws, naming what
 * was focused along the way, when it is never reached.
 */
export async function tabTo(page: Page, name: string | RegExp, limit = 25): Promise<void> {
  const seen: string[] = [];
  for (let presses = 0; presses < limit; presses += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      return element && element !== document.body ? (element.textContent ?? '').trim().replace(/\s+/g, ' ') : '';
    });
    if (typeof name === 'string' ? focused === name : name.test(focused)) return;
    seen.push(focused);
  }
  throw new Error(`Tab never reached ${String(name)} on ${page.url()}; focus went through: ${seen.join(' | ')}`);
}
