import { neonConfig } from '@neondatabase/serverless';
import { sql } from 'drizzle-orm';
import ws from 'ws';
import { type DatabaseHandle, openDatabase } from '../../src/db/client.ts';
import { startWsBridge, type WsBridge } from './ws-bridge.ts';

/**
 * Opens the same drizzle-on-Neon database the Worker uses, from Node (operator scripts, test
 * setup). Neon hosts are reached directly over their WebSocket endpoint; any other Postgres
 * through a bridge started inside this process for this one server, so there is one driver and
 * one set of SQL semantics everywhere.
 */
export interface NodeDatabase extends DatabaseHandle {
  close(): Promise<void>;
}

export async function openNodeDatabase(url: string): Promise<NodeDatabase> {
  neonConfig.webSocketConstructor = ws;
  const target = new URL(url);
  let bridge: WsBridge | undefined;
  if (!isNeonHost(target.hostname)) {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    bridge = await startWsBridge({ target: { host, port: Number(target.port || 5432) } });
  }
  // No query timeout for operator work: a migration may rightly run (or wait for its lock) for minutes.
  const handle = openDatabase({
    url,
    wsProxy: bridge ? { address: bridge.proxyAddress, secret: bridge.secret } : undefined,
    queryTimeoutMs: 0,
  });
  return {
    ...handle,
    close: async () => {
      await handle.end();
      await bridge?.close();
    },
  };
}

export function isNeonHost(hostname: string): boolean {
  return hostname.endsWith('.neon.tech') || hostname.endsWith('.neon.build');
}

/** Creates the database on the server of `adminUrl` unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = await openNodeDatabase(adminUrl);
  try {
    const found = await admin.db.execute(sql`select 1 from pg_database where datname = ${name}`);
    if (found.rows.length === 0) await admin.db.execute(sql`CREATE DATABASE ${sql.identifier(name)}`);
  } finally {
    await admin.close();
  }
}
