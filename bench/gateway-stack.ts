import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { deployedVar } from '../scripts/lib/dev/deployed-config.ts';
import { type LocalPostgres, startLocalPostgres } from '../scripts/lib/dev/local-postgres.ts';
import { findFreePort } from '../scripts/lib/dev/ports.ts';
import { type StandInGitHub, startStandInGitHub } from '../scripts/lib/dev/stand-in-github.ts';
import { migrate } from '../scripts/lib/migrations/engine.ts';
import { withMigrationSession } from '../scripts/lib/migrations/session.ts';
import { ensureDatabase, type NodeDatabase, openNodeDatabase } from '../scripts/lib/node-database.ts';
import { startWsBridge, type WsBridge } from '../scripts/lib/ws-bridge.ts';
import { generateAssertionKey } from '../src/crypto/assertion-keys.ts';
import { generateMasterKey } from '../src/crypto/token-cipher.ts';
import { type BuiltWorker, buildWorker } from './build.ts';

const CLIENT = { id: 'Iv1.bench', secret: 'bench-secret' };
// The Worker listens on a free loopback port; like GitHub, the stand-in accepts any port there.
const CALLBACK = 'http://127.0.0.1/auth/github/callback';

/** Everything the benchmark runs: Postgres, the bridge it counts at, the stand-in GitHub, the built Worker. */
export interface GatewayStack {
  postgres: LocalPostgres;
  databaseUrl: string;
  database: NodeDatabase;
  bridge: WsBridge;
  github: StandInGitHub;
  worker: BuiltWorker;
  migrationMs: number;
  /** The Worker's secrets; with an assertion key, so the exchange and the refresh sign assertions as deployed. */
  secrets: { TOKEN_ENCRYPTION_KEY: string; SESSION_SECRET: string; ASSERTION_SIGNING_KEY: string };
  /** Faults to inject into the database server (the fault tests): shut it down and start it again, or freeze it. */
  faults: DatabaseFaults;
  stop(): Promise<void>;
}

export interface DatabaseFaults {
  /** A clean shutdown: open connections are closed, new ones refused. */
  shutDown(): Promise<void>;
  /** The same server (same data, same port) started again. */
  startAgain(): Promise<void>;
  /** SIGSTOP to the postmaster: connections are accepted by the kernel and then never answered. */
  freeze(): void;
  thaw(): void;
}

export async function startGatewayStack(): Promise<GatewayStack> {
  const root = await mkdtemp(path.join(tmpdir(), 'gateway-bench-'));
  await chmod(root, 0o755);
  const postgresOptions = {
    dataDir: path.join(root, 'pgdata'),
    port: await findFreePort(),
    // Kept between a shutdown and the next start; the whole folder goes when the stack stops.
    persistent: true,
    fast: true,
    authMethod: 'password' as const,
  };
  let postgres = await startLocalPostgres(postgresOptions);
  let running = true;
  const postmasterPid = () =>
    Number(readFileSync(path.join(postgresOptions.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const faults: DatabaseFaults = {
    shutDown: async () => {
      await postgres.stop();
      running = false;
    },
    startAgain: async () => {
      postgres = await startLocalPostgres(postgresOptions);
      running = true;
    },
    freeze: () => process.kill(postmasterPid(), 'SIGSTOP'),
    thaw: () => process.kill(postmasterPid(), 'SIGCONT'),
  };
  await ensureDatabase(postgres.url(), 'bench');
  const databaseUrl = postgres.url('bench');
  const started = performance.now();
  await withMigrationSession(databaseUrl, ({ session }) =>
    migrate({ session, migrationsDir: path.resolve('migrations'), log: () => {} }),
  );
  const migrationMs = Math.round(performance.now() - started);
  // The bridge relays to this Postgres alone (the same port after a fault test restarts it).
  const bridge = await startWsBridge({ target: { host: '127.0.0.1', port: postgresOptions.port } });
  const github = await startStandInGitHub({
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    callbackUrls: [CALLBACK],
  });
  const worker = buildWorker(path.join(root, 'dist'));
  const database = await openNodeDatabase(databaseUrl);
  return {
    get postgres() {
      return postgres;
    },
    databaseUrl,
    database,
    bridge,
    github,
    worker,
    migrationMs,
    secrets: {
      TOKEN_ENCRYPTION_KEY: generateMasterKey(),
      SESSION_SECRET: generateMasterKey(),
      ASSERTION_SIGNING_KEY: JSON.stringify((await generateAssertionKey()).privateJwk),
    },
    faults,
    stop: async () => {
      await database.close();
      await github.close();
      await bridge.close();
      if (running) await postgres.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface WorkerOptions {
  cacheSeconds: number;
  /** Deliver audit messages to the consumer (off while counting the response path's database work). */
  auditConsumer: boolean;
  /** Bind Miniflare's rate limiter (default on); off only to measure what the simulated binding costs. */
  rateLimiter?: boolean;
  /** The Worker's LOG_LEVEL (default warn) and a listener for its log lines (each a JSON event). */
  logLevel?: 'debug' | 'warn' | 'error';
  onLogLine?: (line: string) => void;
  /** Open workerd's inspector (Chrome DevTools protocol) on this loopback port, for a CPU profile. */
  inspectorPort?: number;
}

export interface RunningWorker {
  url: URL;
  startupMs: number;
  /** CPU time (user + system) the Worker's workerd process has used so far, in milliseconds. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The built Worker in workerd through Miniflare: no wrangler dev proxy in front. */
export async function startWorker(stack: GatewayStack, options: WorkerOptions): Promise<RunningWorker> {
  const started = performance.now();
  const workerdBefore = new Set(childWorkerdPids());
  // Miniflare 5 takes a new options shape; the flat (v4) one reads better and converts exactly.
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: await findFreePort(),
      name: 'gateway',
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
      scriptPath: stack.worker.scriptPath,
      // Module names are relative to this root; the default (the working directory) breaks for a bundle in /tmp.
      modulesRoot: path.dirname(stack.worker.scriptPath),
      modules: true,
      compatibilityDate: '2026-11-01',
      bindings: {
        LOG_LEVEL: options.logLevel ?? 'warn',
        VERIFY_CACHE_SECONDS: String(options.cacheSeconds),
        // As deployed: how many requests one limiter call answers is part of what is measured.
        RATE_LIMIT_LEASE: deployedVar('RATE_LIMIT_LEASE'),
        DATABASE_URL: stack.databaseUrl,
        DATABASE_WS_PROXY: stack.bridge.proxyAddress,
        DATABASE_WS_PROXY_SECRET: stack.bridge.secret,
        ...stack.secrets,
        GITHUB_CLIENT_ID: CLIENT.id,
        GITHUB_CLIENT_SECRET: CLIENT.secret,
        GITHUB_OAUTH_URL: stack.github.url,
        GITHUB_API_URL: stack.github.url,
      },
      // The limit is not what is measured: high enough never to trigger.
      ...(options.rateLimiter === false
        ? {}
        : {
            ratelimits: {
              SERVICE_RATE_LIMIT: { namespace_id: '1001', simple: { limit: 10_000_000, period: 60 } },
              CLIENT_RATE_LIMIT: { namespace_id: '1002', simple: { limit: 10_000_000, period: 60 } },
            },
          }),
      queueProducers: { AUDIT_QUEUE: { queueName: 'gateway-audit' } },
      ...(options.onLogLine
        ? { handleStructuredLogs: (log: { message: string }) => options.onLogLine?.(log.message) }
        : {}),
      ...(options.auditConsumer
        ? { queueConsumers: { 'gateway-audit': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } } }
        : {}),
    }),
  );
  const url = await miniflare.ready;
  const first = await fetch(new URL('/livez', url));
  await first.text();
  const workerd = childWorkerdPids().find((pid) => !workerdBefore.has(pid));
  return {
    url,
    startupMs: Math.round(performance.now() - started),
    cpuMs: () => (workerd === undefined ? Number.NaN : processCpuMs(workerd)),
    stop: () => miniflare.dispose(),
  };
}

/** workerd processes started by this process (Miniflare runs one per instance). */
export function childWorkerdPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const stat = readStat(pid);
      return stat !== null && stat.command === 'workerd' && stat.parent === process.pid;
    });
}

/** utime + stime from /proc/<pid>/stat: the runtime itself does not report CPU time per request. */
export function processCpuMs(pid: number): number {
  const stat = readStat(pid);
  return stat ? ((stat.userTicks + stat.systemTicks) * 1000) / CLOCK_TICKS_PER_SECOND : Number.NaN;
}

// USER_HZ is 100 on every Linux build this runs on (getconf CLK_TCK).
const CLOCK_TICKS_PER_SECOND = 100;

function readStat(pid: number): { command: string; parent: number; userTicks: number; systemTicks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command sits in parentheses and may itself contain spaces or parentheses.
    const command = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) ... utime(11) stime(12).
    return { command, parent: Number(fields[1]), userTicks: Number(fields[11]), systemTicks: Number(fields[12]) };
  } catch {
    return null; // the process ended between listing and reading
  }
}

/** Login codes for the exchange scenario: each works once, so the load needs many. */
export async function seedLoginCodes(
  database: NodeDatabase,
  serviceId: string,
  userId: string,
  count: number,
): Promise<string[]> {
  await database.db.execute(sql`
    insert into login_codes (code_hash, service_id, user_id, redirect_uri, expires_at, created_at)
    select encode(sha256(convert_to('bench-code-' || i, 'UTF8')), 'hex'), ${serviceId}, ${userId},
           'https://bench.example.com/cb', now() + interval '1 hour', now()
      from generate_series(1, ${count}::int) i`);
  return Array.from({ length: count }, (_, index) => `bench-code-${index + 1}`);
}
