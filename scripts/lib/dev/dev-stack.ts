import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { generateAssertionKey } from '../../../src/crypto/assertion-keys.ts';
import { generateMasterKey } from '../../../src/crypto/token-cipher.ts';
import { isLoopbackHost } from '../../../src/validation/loopback.ts';
import { formatDevVars, readDevVars, setDevVar } from '../dev-vars.ts';
import { migrate } from '../migrations/engine.ts';
import { withMigrationSession } from '../migrations/session.ts';
import { ensureDatabase, isNeonHost } from '../node-database.ts';
import { appendSecretFile, protectSecretFile, writeSecretFile } from '../secret-files.ts';
import { startWsBridge, type WsBridge } from '../ws-bridge.ts';
import { type LocalPostgres, startLocalPostgres } from './local-postgres.ts';
import { assertPortFree } from './ports.ts';
import { startStandInGitHub } from './stand-in-github.ts';
import { workerTypesUpToDate } from './worker-types.ts';
import { forwardLines, WranglerOutputFilter } from './wrangler-output.ts';

const DEV_DATABASE = 'gateway';
const STAND_IN_DEV_CLIENT_ID = 'Iv1.local-stand-in';

/** Everything `npm run dev` runs, with the ports and folders it uses. */
export interface DevStackOptions {
  rootDir: string;
  workerPort: number;
  postgresPort: number;
  bridgePort: number;
  standInGitHubPort: number;
  /** GITHUB_STAND_IN_MEMBERSHIPS: the stand-in GitHub's people and memberships at start (JSON). */
  standInMembershipsFile?: string | undefined;
  dataDir: string;
  /** The local secrets file wrangler would read; keys it lacks are generated into it. */
  devVarsFile: string;
  /** DATABASE_URL from the environment or .dev.vars: use that server instead of a local one. */
  externalDatabaseUrl?: string | undefined;
  /**
   * How often the stack fires the Worker's scheduled handler (the events sweep), which wrangler
   * dev never does on its own: wrangler.toml's cron runs only when deployed. Default 60 s, as the cron.
   */
  sweepEverySeconds?: number | undefined;
  log: (line: string) => void;
}

/** Whether a DATABASE_URL names the database this stack runs itself (loopback, its port, its database). */
export function isLocalDevDatabase(url: string, postgresPort: number): boolean {
  try {
    const parsed = new URL(url);
    return (
      isLoopbackHost(parsed.hostname) && Number(parsed.port) === postgresPort && parsed.pathname === `/${DEV_DATABASE}`
    );
  } catch {
    return false;
  }
}

/**
 * Whether a DATABASE_URL is one a dev stack wrote into .dev.vars for the operator commands: its
 * own local database (loopback, the `postgres` superuser, the `gateway` database) on whatever port
 * that run used. Such a value is the stack's to start and to replace, never another server.
 */
export function isDevStackDatabaseUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      isLoopbackHost(parsed.hostname) &&
      decodeURIComponent(parsed.username) === 'postgres' &&
      parsed.pathname === `/${DEV_DATABASE}`
    );
  } catch {
    return false;
  }
}

/**
 * The server `npm run dev` should use instead of starting its own, if any: DATABASE_URL from the
 * environment unless it names this stack's own database (the same port), or from .dev.vars unless
 * it is what a dev stack wrote there (a run with another PGPORT included).
 */
export function externalDatabaseUrlOf(
  fromEnvironment: string | undefined,
  fromDevVars: string | undefined,
  postgresPort: number,
): string | undefined {
  if (fromEnvironment) return isLocalDevDatabase(fromEnvironment, postgresPort) ? undefined : fromEnvironment;
  if (fromDevVars) return isDevStackDatabaseUrl(fromDevVars) ? undefined : fromDevVars;
  return undefined;
}

/**
 * Where the stack writes the env file wrangler dev reads (every local secret): the checkout's own
 * .data folder, never beside a data folder that may sit in a shared temporary directory. One per
 * Worker port, so two stacks of one checkout never overwrite each other's.
 */
export function wranglerEnvFile(rootDir: string, workerPort: number): string {
  return path.join(rootDir, '.data', `wrangler-dev-${workerPort}.vars`);
}

/**
 * Keeps the local database's URL (with its password) in .dev.vars as DATABASE_URL, so the operator
 * commands find it: a missing or older local value is replaced, one naming another server never.
 */
export function recordDatabaseUrlForOperators(devVarsFile: string, databaseUrl: string, postgresPort: number): boolean {
  const current = readDevVars(devVarsFile).DATABASE_URL;
  if (current === databaseUrl) return false;
  if (current && !isLocalDevDatabase(current, postgresPort) && !isDevStackDatabaseUrl(current)) return false;
  setDevVar(devVarsFile, 'DATABASE_URL', databaseUrl);
  return true;
}

export interface DevStack {
  workerUrl: string;
  /** The database the Worker uses; for the local one, its URL with the password. */
  databaseUrl: string;
  /** Whether that is this stack's own Postgres (not a DATABASE_URL naming another server). */
  localDatabase: boolean;
  /** The stand-in GitHub's URL when no real GitHub App is configured. */
  standInGitHubUrl: string | null;
  /** Resolves with wrangler's exit code when it stops on its own. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const stoppers: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const stopper of stoppers.splice(0).reverse()) await stopper();
  };
  try {
    const envFile = wranglerEnvFile(options.rootDir, options.workerPort);
    // Secrets go only where others cannot write: said before anything is started.
    protectSecretFile(options.devVarsFile);
    protectSecretFile(envFile);
    await assertPortFree(options.workerPort, 'the Worker (wrangler dev)', 'PORT');
    let databaseUrl = options.externalDatabaseUrl;
    let standInGitHubUrl: string | null = null;
    let postgresDied: Promise<string> = new Promise(() => {});
    if (!databaseUrl) {
      options.log(
        `Starting Postgres on 127.0.0.1:${options.postgresPort} (data in ${path.relative(options.rootDir, options.dataDir)})`,
      );
      const postgres: LocalPostgres = await startLocalPostgres({
        dataDir: options.dataDir,
        port: options.postgresPort,
        persistent: true,
        log: options.log,
      });
      stoppers.push(() => postgres.stop());
      postgresDied = postgres.unexpectedExit;
      await ensureDatabase(postgres.url('postgres'), DEV_DATABASE);
      databaseUrl = postgres.url(DEV_DATABASE);
    }

    await withMigrationSession(databaseUrl, ({ session }) =>
      migrate({ session, migrationsDir: path.join(options.rootDir, 'migrations'), log: (line) => options.log(line) }),
    );

    await ensureLocalSecrets(options.devVarsFile, options.log);
    if (
      !options.externalDatabaseUrl &&
      recordDatabaseUrlForOperators(options.devVarsFile, databaseUrl, options.postgresPort)
    ) {
      options.log(`Wrote the local DATABASE_URL into ${path.basename(options.devVarsFile)} for the operator commands`);
    }
    const vars: Record<string, string> = { ...readDevVars(options.devVarsFile), DATABASE_URL: databaseUrl };
    const target = new URL(databaseUrl);
    if (!isNeonHost(target.hostname)) {
      await assertPortFree(options.bridgePort, 'the WebSocket bridge', 'BRIDGE_PORT');
      // A new secret every run: only the Worker started below knows it (docs/security.md).
      const bridge: WsBridge = await startWsBridge({
        port: options.bridgePort,
        target: { host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 5432) },
      });
      stoppers.push(() => bridge.close());
      vars.DATABASE_WS_PROXY = bridge.proxyAddress;
      vars.DATABASE_WS_PROXY_SECRET = bridge.secret;
    }

    if (!vars.GITHUB_CLIENT_ID) {
      // No GitHub App configured: a stand-in GitHub on loopback, where any login can sign in.
      await assertPortFree(options.standInGitHubPort, 'the stand-in GitHub', 'GITHUB_STAND_IN_PORT');
      const clientSecret = generateMasterKey();
      const github = await startStandInGitHub({
        port: options.standInGitHubPort,
        membershipsFile: options.standInMembershipsFile,
        clientId: STAND_IN_DEV_CLIENT_ID,
        clientSecret,
        callbackUrls: [
          `http://localhost:${options.workerPort}/auth/github/callback`,
          `http://127.0.0.1:${options.workerPort}/auth/github/callback`,
        ],
      });
      stoppers.push(() => github.close());
      Object.assign(vars, {
        GITHUB_CLIENT_ID: STAND_IN_DEV_CLIENT_ID,
        GITHUB_CLIENT_SECRET: clientSecret,
        GITHUB_OAUTH_URL: github.url,
        GITHUB_API_URL: github.url,
      });
      standInGitHubUrl = github.url;
    }

    // wrangler reads the generated file instead of .dev.vars (whose entries it already contains).
    // Its bridge and stand-in secrets are for this run only, so it goes when the stack stops.
    writeSecretFile(envFile, `${formatDevVars(vars)}\n`);
    stoppers.push(() => rmSync(envFile, { force: true }));

    const wrangler = startWrangler(options, envFile);
    stoppers.push(() => stopChild(wrangler));
    const exited = new Promise<number>((resolve) => {
      wrangler.once('exit', (code) => resolve(code ?? 1));
      // Without its database the Worker answers only 503s: the stack stops and says why, rather
      // than serve on as if it were up (restarting Postgres behind the developer's back would
      // hide whatever killed it).
      void postgresDied.then((reason) => {
        options.log(`${reason}\nStopping the stack: the Worker cannot serve without it. Run \`npm run dev\` again.`);
        resolve(1);
      });
    });
    // localhost, not 127.0.0.1: browsers accept Secure cookies over plain http only from localhost.
    const workerUrl = `http://localhost:${options.workerPort}`;
    await waitForHealthy(`http://127.0.0.1:${options.workerPort}/health`, exited);
    const sweeps = fireScheduledEvery(options.workerPort, options.sweepEverySeconds ?? 60);
    stoppers.push(() => clearInterval(sweeps));
    // wrangler's own hint is dropped (wrangler-output.ts); this is the check `npm run types` agrees with.
    void workerTypesUpToDate(options.rootDir, wranglerEntryOf(options.rootDir)).then((upToDate) => {
      if (!upToDate) options.log('worker-configuration.d.ts is out of date with wrangler.toml: run `npm run types`.');
    });
    return { workerUrl, databaseUrl, localDatabase: !options.externalDatabaseUrl, standInGitHubUrl, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Secrets the Worker needs that a developer should not have to invent: made once, kept in the
 * git-ignored .dev.vars so the Worker and the operator scripts use the same ones.
 */
async function ensureLocalSecrets(devVarsFile: string, log: (line: string) => void): Promise<void> {
  const existing = readDevVars(devVarsFile);
  const missing: Record<string, string> = {};
  if (!existing.TOKEN_ENCRYPTION_KEY) missing.TOKEN_ENCRYPTION_KEY = generateMasterKey();
  if (!existing.SESSION_SECRET) missing.SESSION_SECRET = generateMasterKey();
  // Local assertions, so a service developed against `npm run dev` gets them as in production.
  if (existing.ASSERTION_SIGNING_KEY === undefined) {
    missing.ASSERTION_SIGNING_KEY = JSON.stringify((await generateAssertionKey()).privateJwk);
  }
  if (Object.keys(missing).length === 0) return;
  const header = existsSync(devVarsFile)
    ? ''
    : '# Local secrets for wrangler dev and the operator scripts. Never commit this file.\n';
  appendSecretFile(devVarsFile, `${header}${formatDevVars(missing)}\n`);
  log(`Generated ${Object.keys(missing).join(', ')} for local use in ${path.basename(devVarsFile)}`);
}

/** wrangler's entry, run on this Node (from the project), not whatever `node` is first on PATH. */
function wranglerEntryOf(rootDir: string): string {
  return path.join(rootDir, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
}

function startWrangler(options: DevStackOptions, envFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      wranglerEntryOf(options.rootDir),
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(options.workerPort),
      '--env-file',
      envFile,
      '--show-interactive-dev-session=false',
    ],
    {
      cwd: options.rootDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_HIDE_BANNER: 'true',
        // miniflare fetches Request.cf's placeholder from workers.cloudflare.com on every start
        // and prints a stack trace when offline; the built-in placeholder is all local dev needs.
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      },
    },
  );
  const filter = new WranglerOutputFilter();
  forwardLines(child.stdout, process.stdout, (line) => filter.keep(line));
  forwardLines(child.stderr, process.stderr, (line) => filter.keep(line));
  return child;
}

/**
 * Fires the Worker's `scheduled` handler through Miniflare's local trigger, as the deployed cron
 * (`* * * * *`) would: events written by operator commands, retries and standing access that ran
 * out are swept locally too. A trigger that fails (the Worker reloading) waits for the next one.
 */
function fireScheduledEvery(workerPort: number, seconds: number): NodeJS.Timeout {
  const trigger = `http://127.0.0.1:${workerPort}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('* * * * *')}`;
  const timer = setInterval(() => {
    void fetch(trigger, { signal: AbortSignal.timeout(30_000) })
      .then((answer) => answer.body?.cancel())
      .catch(() => {});
  }, seconds * 1000);
  timer.unref();
  return timer;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls /health until the Worker answers 200; wrangler exiting first is an error. */
async function waitForHealthy(url: string, exited: Promise<number>, timeoutMs = 60_000): Promise<void> {
  let wranglerExit: number | undefined;
  void exited.then((code) => {
    wranglerExit = code;
  });
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (wranglerExit !== undefined)
      throw new Error(`wrangler dev exited (code ${wranglerExit}) before the Worker answered.`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
      lastProblem = `${response.status} ${await response.text()}`;
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`The Worker did not become healthy within ${timeoutMs / 1000} s at ${url}: ${lastProblem}`);
}
