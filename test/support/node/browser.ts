import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH`, else Chromium or Chrome where Debian,
 * Ubuntu and macOS put them, else (Linux x64) the headless shell that ships inside the
 * `@sparticuz/chromium` npm package, so a machine with nothing but npm runs the tests too.
 */
const SYSTEM_BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** Chromium's own flags for a test run; root (containers) needs --no-sandbox. */
const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface ChromiumBinary {
  executablePath: string;
  /** Extra environment for the browser (the packaged one brings its own fonts). */
  env?: Record<string, string>;
}

export async function launchChromium(): Promise<Browser> {
  const binary = await findChromium();
  return chromium.launch({
    executablePath: binary.executablePath,
    headless: true,
    args: FLAGS,
    ...(binary.env ? { env: { ...process.env, ...binary.env } } : {}),
  });
}

export interface FindOptions {
  /** Where to look before falling back to the packaged Chromium (the tests of this file pass none). */
  systemBrowsers?: string[];
  /** Where the packaged Chromium is unpacked; `node_modules/.cache/sparticuz-chromium` by default. */
  cacheDir?: string;
}

export async function findChromium(options: FindOptions = {}): Promise<ChromiumBinary> {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen))
      throw new Error(`CHROMIUM_PATH names no file (${chosen}): point it at a Chromium or Chrome.`);
    return { executablePath: chosen };
  }
  const candidates = options.systemBrowsers ?? SYSTEM_BROWSERS;
  const system = candidates.find((candidate) => existsSync(candidate));
  if (system) return { executablePath: system };
  if (process.platform === 'linux' && process.arch === 'x64') return unpackPackagedChromium(options.cacheDir);
  throw new Error(
    `No browser found (looked at ${candidates.join(', ')}; the npm-packaged Chromium is for Linux x64 only): install Chrome or Chromium, or set CHROMIUM_PATH.`,
  );
}

/**
 * Unpacks @sparticuz/chromium's brotli-compressed headless shell once per package version.
 *
 * Not its `executablePath()`: that unpacks into the shared temporary folder and reuses any file
 * already called `chromium` there (one another user may have planted, or an older version), and
 * two test files starting at once would write the same file. Here the binary goes to
 * `node_modules/.cache`, is unpacked into a folder of this process and renamed into place whole.
 * Its `args` are not used either: they switch off web security and site isolation, which the
 * browser tests rely on.
 */
async function unpackPackagedChromium(chosenCacheDir?: string): Promise<ChromiumBinary> {
  const packageDir = path.resolve(path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..');
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cacheDir = chosenCacheDir ?? path.resolve(packageDir, '..', '..', '.cache', 'sparticuz-chromium');
  const target = path.join(cacheDir, version);
  const executablePath = path.join(target, 'chromium');
  const env = { FONTCONFIG_FILE: path.join(target, 'fonts.conf') };
  if (existsSync(executablePath)) return { executablePath, env };

  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const staging = await mkdtemp(path.join(cacheDir, `.${version}-`));
  try {
    await pipeline(
      createReadStream(path.join(packageDir, 'bin', 'chromium.br')),
      createBrotliDecompress(),
      createWriteStream(path.join(staging, 'chromium'), { mode: 0o700 }),
    );
    await untarBrotli(path.join(packageDir, 'bin', 'fonts.tar.br'), staging);
    // The package's fonts.conf names Lambda's folders; this one adds its fonts to the system's.
    await writeFile(
      path.join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n` +
        `  <dir>${path.join(target, 'fonts')}</dir>\n` +
        `  <cachedir>${path.join(target, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another test file unpacked the same version first: use that one.
    if (existsSync(executablePath)) return { executablePath, env };
    throw error;
  }
  return { executablePath, env };
}

/**
 * Extracts a .tar.br into `folder` with the system's tar (Node has no tar reader). The archive is
 * decompressed to a file first: tar stops reading at the end-of-archive blocks, and fed from a
 * pipe it could close its stdin before the padding after them is written, which failed the
 * pipeline ("Premature close") on a loaded machine.
 */
async function untarBrotli(archive: string, folder: string): Promise<void> {
  const tarFile = path.join(folder, '.archive.tar');
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(tarFile));
  const tar = spawn('tar', ['-x', '--no-same-owner', '-f', tarFile, '-C', folder], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    tar.once('error', reject);
    tar.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code} on ${archive}`))));
  });
  await rm(tarFile);
}
