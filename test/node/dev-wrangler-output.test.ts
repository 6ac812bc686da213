import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerTypesUpToDate } from '../../scripts/lib/dev/worker-types.ts';
import { WranglerOutputFilter } from '../../scripts/lib/dev/wrangler-output.ts';

const wranglerEntry = path.resolve('node_modules/wrangler/bin/wrangler.js');

const bindingsTable = [
  'Your Worker has access to the following bindings:',
  'Binding                                               Resource                  Mode',
  'env.AUDIT_QUEUE (gateway-audit)                       Queue                     local',
  '\x1b[2menv.LOG_LEVEL ("info")                                Environment Variable      local\x1b[0m',
  '',
];

const passedOn = (filter: WranglerOutputFilter, lines: string[]) => lines.flatMap((line) => filter.keep(line));

describe("npm run dev's view of wrangler's output", () => {
  it('passes the bindings table on once, and again only when the bindings change', () => {
    const filter = new WranglerOutputFilter();
    expect(passedOn(filter, ['⎔ Starting local server...', ...bindingsTable])).toEqual([
      '⎔ Starting local server...',
      ...bindingsTable,
    ]);
    expect(passedOn(filter, ['⎔ Connection status updated', ...bindingsTable, '⎔ Ready'])).toEqual([
      '⎔ Connection status updated',
      '⎔ Ready',
    ]);
    const changed = [...bindingsTable.slice(0, 3), 'env.NEW ("x")   Environment Variable   local', ''];
    expect(passedOn(filter, changed)).toEqual(changed);
  });

  it("drops wrangler's types hint, which counts the secrets in .dev.vars that npm run types leaves out", () => {
    const filter = new WranglerOutputFilter();
    const hint = '❓ Your types might be out of date. Re-run `wrangler types` to ensure your types are correct.';
    expect(passedOn(filter, [hint, '[wrangler:info] Ready on http://127.0.0.1:8787'])).toEqual([
      '[wrangler:info] Ready on http://127.0.0.1:8787',
    ]);
  });
});

describe('the worker types check npm run dev runs instead', () => {
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'gateway-worker-types-'));
    copyFileSync('wrangler.toml', path.join(project, 'wrangler.toml'));
    copyFileSync('worker-configuration.d.ts', path.join(project, 'worker-configuration.d.ts'));
    copyFileSync('.dev.vars.example', path.join(project, '.dev.vars.example'));
    copyFileSync('package.json', path.join(project, 'package.json'));
    // The types name the Worker's entry module; a stand-in for it is enough to check them.
    mkdirSync(path.join(project, 'src'));
    writeFileSync(path.join(project, 'src', 'index.ts'), 'export default {};\n');
    // A developer's .dev.vars with secrets in it: what made wrangler's own hint fire on every start.
    writeFileSync(path.join(project, '.dev.vars'), 'TOKEN_ENCRYPTION_KEY="local"\nSESSION_SECRET="local"\n');
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('finds the tracked worker-configuration.d.ts up to date despite the secrets in .dev.vars', async () => {
    expect(await workerTypesUpToDate(project, wranglerEntry)).toBe(true);
  }, 60_000);

  it('finds it out of date once wrangler.toml gains a var', async () => {
    const toml = path.join(project, 'wrangler.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('[vars]\n', '[vars]\nNEW_VAR = "x"\n'));
    expect(await workerTypesUpToDate(project, wranglerEntry)).toBe(false);
  }, 60_000);
});
