import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { isAlive } from '../../scripts/lib/dev/process-info.ts';
import { type RunningChild, runScript } from '../support/node/child.ts';
import { portOpen } from '../support/node/port-open.ts';

// How `npm run dev` lives with the processes around it: its parent going, its Postgres dying, a
// second instance on its data folder or ports. Real stacks on free ports (slow: kept to two).

type Ports = { PORT: string; PGPORT: string; BRIDGE_PORT: string; GITHUB_STAND_IN_PORT: string };

let root: string;
let dataDir: string;
const running = new Set<RunningChild>();
/** Stacks started under a parent that this test ends: stopped here if a failed assertion left them. */
const stacksUnderParent = new Set<number>();

const freePorts = async (): Promise<Ports> => ({
  PORT: String(await findFreePort()),
  PGPORT: String(await findFreePort()),
  BRIDGE_PORT: String(await findFreePort()),
  GITHUB_STAND_IN_PORT: String(await findFreePort()),
});

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gateway-dev-lifecycle-'));
  await chmod(root, 0o755);
  dataDir = path.join(root, 'pgdata');
});

afterEach(async () => {
  // Whatever a failed assertion left: every process on our data folder or under our scripts.
  for (const dev of running) {
    if (dev.child.exitCode === null && dev.child.signalCode === null) {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
  }
  running.clear();
  for (const pid of stacksUnderParent) if (isAlive(pid)) process.kill(pid, 'SIGTERM');
  stacksUnderParent.clear();
  for (const pid of processesNaming(root)) process.kill(pid, 'SIGTERM');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function devEnv(ports: Ports): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  return { ...env, ...ports, PGDATA_DIR: dataDir, DEV_VARS_FILE: path.join(root, '.dev.vars') };
}

function track(dev: RunningChild): RunningChild {
  running.add(dev);
  return dev;
}

/**
 * A parent like npm when an IDE stops it: it starts the stack and, sent TERM, simply ends,
 * passing nothing on (Node's default for SIGTERM).
 */
const NPM_LIKE_PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['scripts/dev.ts'], { stdio: 'inherit' });
console.log('dev stack pid ' + child.pid);
`;

/** Processes whose command line names `text` (our temporary folder is in Postgres's and wrangler's). */
function processesNaming(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Waits (up to a deadline, not a timing assertion) until `done` holds; returns whether it did. */
async function eventually(done: () => boolean | Promise<boolean>, deadlineMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return done();
}

async function allPortsClosed(ports: Ports): Promise<boolean> {
  for (const port of Object.values(ports)) if (await portOpen(port)) return false;
  return true;
}

const postmasterPid = () => Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('npm run dev among other processes', () => {
  it('stops the whole stack when only its parent gets TERM, and prints one bindings table and no ENOTFOUND trace', async () => {
    const ports = await freePorts();
    const parent = track(runScript('-e', [NPM_LIKE_PARENT], devEnv(ports)));
    await parent.waitFor('Gateway running', 90_000);
    const stackPid = Number(/dev stack pid (\d+)/.exec(parent.output())?.[1]);
    stacksUnderParent.add(stackPid);
    expect(processesNaming(dataDir).length).toBeGreaterThan(0);

    parent.child.kill('SIGTERM');
    await parent.exited;
    expect(await eventually(() => !isAlive(stackPid) && processesNaming(root).length === 0)).toBe(true);
    expect(await eventually(() => allPortsClosed(ports))).toBe(true);
    expect(parent.output()).toContain('is gone: stopping.');

    // Quiet on an offline machine: no Request.cf fetch, and the bindings table once.
    expect(parent.output()).not.toContain('ENOTFOUND');
    expect(parent.output()).not.toContain('Unable to fetch the `Request.cf` object');
    expect(parent.output().match(/Your Worker has access to the following bindings/g)).toHaveLength(1);
  }, 120_000);

  it('names the running stack to a second one on its folder or its port, and reports its Postgres dying', async () => {
    const ports = await freePorts();
    const first = track(runScript('scripts/dev.ts', [], devEnv(ports)));
    await first.waitFor('Gateway running', 90_000);
    const firstPid = first.child.pid;
    const postgresPid = postmasterPid();

    // The same ports: what holds the Worker's port, and whose stack it is.
    const samePorts = track(runScript('scripts/dev.ts', [], devEnv(ports)));
    expect(await samePorts.exited).toBe(1);
    expect(samePorts.output()).toMatch(
      new RegExp(
        `Port ${ports.PORT}, wanted for the Worker \\(wrangler dev\\), is already in use by pid \\d+ \\(\`[^\`]*workerd`,
      ),
    );
    expect(samePorts.output()).toContain(`part of the \`npm run dev\` pid ${firstPid} (`);

    // Its own ports, the same data folder: the other stack is named, its database is not to be killed.
    const sameFolder = track(runScript('scripts/dev.ts', [], devEnv(await freePorts())));
    expect(await sameFolder.exited).toBe(1);
    expect(sameFolder.output()).toContain(`Another \`npm run dev\`, pid ${firstPid} (`);
    expect(sameFolder.output()).toContain(`is using the data folder ${dataDir}`);
    expect(sameFolder.output()).not.toContain(`kill ${postgresPid}`);
    expect(isAlive(postgresPid)).toBe(true);

    // Its Postgres killed: said in one line, and the stack stops instead of serving 503s.
    process.kill(postgresPid, 'SIGKILL');
    expect(await first.exited).toBe(1);
    expect(first.output()).toContain(
      `Postgres (pid ${postgresPid}) on port ${ports.PGPORT} stopped (killed by SIGKILL)`,
    );
    expect(first.output()).toContain('Stopping the stack: the Worker cannot serve without it.');
    expect(await eventually(() => processesNaming(root).length === 0)).toBe(true);
    expect(await eventually(() => allPortsClosed(ports))).toBe(true);
  }, 150_000);
});
