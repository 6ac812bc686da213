import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PASSWORD_FILE } from '../../scripts/lib/dev/local-postgres.ts';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { readDevVars } from '../../scripts/lib/dev-vars.ts';
import { openNodeDatabase } from '../../scripts/lib/node-database.ts';
import { generateEventsSecret, sealEventsSecret } from '../../src/crypto/events-secret.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { type RunningChild, runScript } from '../support/node/child.ts';
import { portOpen } from '../support/node/port-open.ts';

let root: string;
let ports: { PORT: string; PGPORT: string; BRIDGE_PORT: string; GITHUB_STAND_IN_PORT: string };
let dataDir: string;
let devVarsFile: string;
const running = new Set<RunningChild>();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gateway-dev-test-'));
  await chmod(root, 0o755);
  dataDir = path.join(root, 'pgdata');
  devVarsFile = path.join(root, '.dev.vars');
  ports = {
    PORT: String(await findFreePort()),
    PGPORT: String(await findFreePort()),
    BRIDGE_PORT: String(await findFreePort()),
    GITHUB_STAND_IN_PORT: String(await findFreePort()),
  };
});

// A failed assertion must not leave a dev stack running for the next test.
afterEach(async () => {
  for (const dev of running) {
    if (dev.child.exitCode === null && dev.child.signalCode === null) {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
  }
  running.clear();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function startDev(vars = devVarsFile, extraEnv: Record<string, string> = {}): RunningChild {
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const dev = runScript('scripts/dev.ts', [], {
    ...env,
    ...ports,
    PGDATA_DIR: dataDir,
    DEV_VARS_FILE: vars,
    ...extraEnv,
  });
  running.add(dev);
  return dev;
}

/** Processes whose command line names our data directory: a running (or orphaned) postgres. */
function postgresProcessesOn(directory: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(directory)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

const devDatabaseUrl = () => {
  const password = readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
  return `postgres://postgres:${password}@127.0.0.1:${ports.PGPORT}/gateway`;
};
const oldDevDatabaseUrl = () => `postgres://postgres:postgres@127.0.0.1:${ports.PGPORT}/gateway`;
/** The env file the stack writes for wrangler dev: in the checkout's .data, never beside the data folder. */
const wranglerEnvFile = () => path.resolve('.data', `wrangler-dev-${ports.PORT}.vars`);
const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

/** The HTTP status the dev bridge answers an upgrade with (101 when it opens a WebSocket). */
function bridgeUpgradeStatus(pathAndQuery: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${ports.BRIDGE_PORT}${pathAndQuery}`, { headers });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    socket.on('open', () => {
      resolve(101);
      socket.close();
    });
    socket.on('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error);
    });
  });
}

async function refusesLogin(url: string): Promise<boolean> {
  const db = await openNodeDatabase(url);
  try {
    await db.db.execute(sql`select 1`);
    return false;
  } catch {
    return true;
  } finally {
    await db.close();
  }
}

describe('npm run dev', () => {
  it('serves /health with the database up, and SIGTERM leaves no process or port behind', async () => {
    // A .dev.vars someone made by hand, readable by others: the stack narrows it to its owner.
    writeFileSync(devVarsFile, '# my local settings\n', { mode: 0o644 });
    await chmod(devVarsFile, 0o644);
    // The stand-in GitHub's memberships, from the file GITHUB_STAND_IN_MEMBERSHIPS names.
    const memberships = path.join(root, 'memberships.json');
    writeFileSync(memberships, JSON.stringify({ memberships: [{ org: 'dev-org', team: 'dev-team', login: 'devon' }] }));
    const dev = startDev(devVarsFile, { GITHUB_STAND_IN_MEMBERSHIPS: memberships });
    await dev.waitFor('Gateway running');
    expect(dev.output()).toContain(
      'Generated TOKEN_ENCRYPTION_KEY, SESSION_SECRET, ASSERTION_SIGNING_KEY for local use in .dev.vars',
    );
    expect(dev.output()).toContain('GitHub:    stand-in at http://127.0.0.1:');
    const membershipsPage = `http://127.0.0.1:${ports.GITHUB_STAND_IN_PORT}/_stand-in/memberships`;
    expect(dev.output()).toContain(`orgs:      ${membershipsPage}`);
    expect(await (await fetch(membershipsPage)).text()).toContain('<td>dev-org</td><td>dev-team</td><td>devon</td>');
    expect(readFileSync(devVarsFile, 'utf8')).toMatch(/^TOKEN_ENCRYPTION_KEY="[A-Za-z0-9+/]{43}="$/m);
    expect(modeOf(devVarsFile)).toBe('600');
    // The local database's URL, with its random password: printed, and kept for the operator commands.
    expect(dev.output()).toContain(`database:  ${devDatabaseUrl()}`);
    expect(readDevVars(devVarsFile).DATABASE_URL).toBe(devDatabaseUrl());
    expect(await refusesLogin(oldDevDatabaseUrl())).toBe(true);
    expect(modeOf(wranglerEnvFile())).toBe('600');
    expect(existsSync(path.join(root, 'wrangler-dev.vars'))).toBe(false);
    // The review's attack: a page on another origin opening the documented bridge URL. Refused,
    // with or without the secret, while the Worker's own kind of request (no Origin) opens.
    const secret = readDevVars(wranglerEnvFile()).DATABASE_WS_PROXY_SECRET;
    const database = `address=127.0.0.1:${ports.PGPORT}`;
    const browser = { Origin: 'https://attacker.example' };
    expect(await bridgeUpgradeStatus(`/v1?${database}`, browser)).toBe(403);
    expect(await bridgeUpgradeStatus(`/${secret}/v1?${database}`, browser)).toBe(403);
    expect(await bridgeUpgradeStatus(`/v1?${database}`, {})).toBe(403);
    expect(await bridgeUpgradeStatus(`/${secret}/v1?${database}`, {})).toBe(101);
    const health = await fetch(`http://127.0.0.1:${ports.PORT}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: { reachable: true } });
    // The generated assertion key reaches the Worker intact (a JSON value in .dev.vars): its JWKS lists it.
    const jwks = (await (await fetch(`http://127.0.0.1:${ports.PORT}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((key) => key.kid)).toEqual([
      (JSON.parse(readDevVars(devVarsFile).ASSERTION_SIGNING_KEY ?? '{}') as { kid: string }).kid,
    ]);

    // Something to find again on the next start: the data directory is kept.
    const db = await openNodeDatabase(devDatabaseUrl());
    await db.db.execute(sql`create table kept_between_runs (id int)`);
    await db.close();

    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(postgresProcessesOn(dataDir)).toEqual([]);
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
    // The bridge secret and the stand-in's client secret in it were for that run only.
    expect(existsSync(wranglerEnvFile())).toBe(false);
  }, 90_000);

  it('fires the events sweep, which wrangler dev never does: an event an operator command wrote is attempted', async () => {
    const dev = startDev(devVarsFile, { DEV_SWEEP_SECONDS: '1' });
    await dev.waitFor('Gateway running');
    // A service whose events URL nothing answers, and an event for it overdue by two minutes, as
    // `gateway users unwhitelist` leaves one (the command cannot sign it: only the Worker's sweep
    // sends it; with the dev stack's local queue the sweep takes what is a minute overdue).
    const serviceId = crypto.randomUUID();
    const eventId = crypto.randomUUID();
    const keyring = await loadTokenKeyring(readDevVars(devVarsFile).TOKEN_ENCRYPTION_KEY ?? '');
    const sealed = await sealEventsSecret(generateEventsSecret(), keyring, serviceId);
    const closed = `http://127.0.0.1:${await findFreePort()}/events`;
    const db = await openNodeDatabase(devDatabaseUrl());
    try {
      await db.db.execute(sql`insert into service_registry
        (id, service_identifier, display_name, api_key_hash, created_at, updated_at, events_url, events_secret)
        values (${serviceId}, 'swept', 'Swept', 'unused', now(), now(), ${closed}, ${sealed})`);
      await db.db.execute(sql`insert into service_events (id, service_id, type, body, created_at, next_attempt_at)
        values (${eventId}, ${serviceId}, 'admission.ended', '{}', now(), now() - interval '2 minutes')`);
      let attempts = 0;
      for (let tries = 0; tries < 40 && attempts === 0; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const result = await db.db.execute(
          sql`select count(*)::int as n from service_event_attempts where event_id = ${eventId}`,
        );
        attempts = Number((result.rows[0] as { n: number } | undefined)?.n ?? 0);
      }
      expect(attempts).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
  }, 90_000);

  it('keeps the data between runs and clears a stale lock left by a killed server', async () => {
    // A lock file naming a process that no longer exists, as a killed postgres leaves it.
    writeFileSync(path.join(dataDir, 'postmaster.pid'), '999999\n');
    // The local database named in .dev.vars for the operator commands, as an older version wrote
    // it, is still this stack's own Postgres to start, and its line is brought up to date.
    const before = readFileSync(devVarsFile, 'utf8').replace(/^DATABASE_URL=.*\n/m, '');
    writeFileSync(devVarsFile, `${before}DATABASE_URL=${oldDevDatabaseUrl()}\n`);
    const dev = startDev();
    await dev.waitFor('Gateway running');
    expect(readFileSync(devVarsFile, 'utf8').match(/^DATABASE_URL=/gm)).toHaveLength(1);
    expect(readDevVars(devVarsFile).DATABASE_URL).toBe(devDatabaseUrl());
    const db = await openNodeDatabase(devDatabaseUrl());
    const found = await db.db.execute(sql`select to_regclass('kept_between_runs') as name`);
    await db.close();
    expect(found.rows[0]).toEqual({ name: 'kept_between_runs' });
    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    expect(postgresProcessesOn(dataDir)).toEqual([]);
  }, 90_000);

  it('refuses to write its secrets into a folder anyone can write to, before starting anything', async () => {
    const shared = path.join(root, 'shared');
    mkdirSync(shared);
    await chmod(shared, 0o777);
    const dev = startDev(path.join(shared, '.dev.vars'));
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toContain(
      `Refusing to write .dev.vars into ${shared}: anyone on this machine can write to that folder`,
    );
    expect(existsSync(path.join(shared, '.dev.vars'))).toBe(false);
    expect(postgresProcessesOn(dataDir)).toEqual([]);
  });

  it('says which port is taken and how to choose another', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(ports.PORT), '127.0.0.1', resolve));
    try {
      const dev = startDev();
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(`Port ${ports.PORT}, wanted for the Worker (wrangler dev), is already in use`);
      expect(dev.output()).toContain('PORT=');
      expect(postgresProcessesOn(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('refuses to share the data directory with a server that is still running', async () => {
    writeFileSync(path.join(dataDir, 'postmaster.pid'), `${process.pid}\n`);
    const dev = startDev();
    expect(await dev.exited).toBe(1);
    expect(dev.output()).toContain(`Another Postgres (pid ${process.pid}) is still running`);
    expect(dev.output()).toContain(`kill ${process.pid}`);
  });
});
