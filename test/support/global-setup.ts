import { chmod, mkdtemp } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { TestProject } from 'vitest/node';
import { type LocalPostgres, startLocalPostgres } from '../../scripts/lib/dev/local-postgres.ts';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { startStandInGitHub } from '../../scripts/lib/dev/stand-in-github.ts';
import { migrate } from '../../scripts/lib/migrations/engine.ts';
import { withMigrationSession } from '../../scripts/lib/migrations/session.ts';
import { openNodeDatabase } from '../../scripts/lib/node-database.ts';
import { startWsBridge } from '../../scripts/lib/ws-bridge.ts';
import { generateMasterKey } from '../../src/crypto/token-cipher.ts';
import { runPrefix, templateDatabaseName, withDatabase } from './database-names.ts';
import { startEventsReceivers } from './events-receiver.ts';
import { STAND_IN_OPTIONS } from './stand-in-options.ts';

/**
 * Once per `npm test`: a throwaway Postgres on a free port (or the server TEST_DATABASE_URL names),
 * the WebSocket bridge the Worker reaches it through, and a prepared template database that each
 * test file copies into a database of its own.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  let server: LocalPostgres | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const root = await mkdtemp(path.join(tmpdir(), 'gateway-test-'));
    // mkdtemp makes a 0700 folder; as root, Postgres runs as another user who must enter it.
    await chmod(root, 0o755);
    server = await startLocalPostgres({
      dataDir: path.join(root, 'pgdata'),
      port: await findFreePort(),
      persistent: false,
      fast: true,
    });
    adminUrl = server.url('postgres');
  }

  const template = templateDatabaseName(runId);
  const admin = await openNodeDatabase(adminUrl);
  await admin.db.execute(sql`CREATE DATABASE ${sql.identifier(template)}`);
  await admin.close();
  // The template is migrated by the same engine and files as production.
  await withMigrationSession(withDatabase(adminUrl, template), ({ session }) =>
    migrate({ session, migrationsDir: path.resolve('migrations'), log: () => {} }),
  );

  const blackhole = await startBlackhole();
  // The Worker's bridge relays to this run's Postgres and to the stand-ins of a broken one (a
  // server that never answers, a closed port), nowhere else.
  const postgres = new URL(adminUrl);
  const bridge = await startWsBridge({
    target: { host: postgres.hostname, port: Number(postgres.port || 5432) },
    alsoRelayTo: [
      { host: '127.0.0.1', port: blackhole.port },
      { host: '127.0.0.1', port: CLOSED_PORT },
    ],
  });
  const github = await startStandInGitHub(STAND_IN_OPTIONS);
  const eventsReceivers = await startEventsReceivers();
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('wsProxy', bridge.proxyAddress);
  project.provide('wsProxySecret', bridge.secret);
  project.provide('runId', runId);
  project.provide('blackholePort', blackhole.port);
  project.provide('tokenEncryptionKey', generateMasterKey());
  project.provide('sessionSecret', generateMasterKey());
  project.provide('githubUrl', github.url);
  project.provide('eventsReceiversUrl', eventsReceivers.url);

  return async () => {
    await bridge.close();
    await blackhole.close();
    await github.close();
    await eventsReceivers.close();
    if (server) {
      await server.stop();
      return;
    }
    await dropRunDatabases(withDatabase(adminUrl, 'postgres'), runPrefix(runId));
  };
}

/** Where tests point DATABASE_URL for a database that is down: nothing listens on port 1. */
const CLOSED_PORT = 1;

/** A TCP server that accepts connections and never answers: a database that hangs. */
async function startBlackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** On a shared server, drop every database this run created. */
async function dropRunDatabases(adminUrl: string, prefix: string): Promise<void> {
  const admin = await openNodeDatabase(adminUrl);
  try {
    const result = await admin.db.execute<{ datname: string }>(
      sql`select datname from pg_database where datname like ${`${prefix}%`}`,
    );
    for (const { datname } of result.rows) {
      await admin.db.execute(sql`DROP DATABASE IF EXISTS ${sql.identifier(datname)} WITH (FORCE)`);
    }
  } finally {
    await admin.close();
  }
}
