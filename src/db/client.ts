import { Client, type NeonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import * as schema from '../../drizzle/schema.ts';

export type Database = NeonDatabase<typeof schema> & { $client: Pool };

/** A database handle or an open transaction: what query functions that may run in either take. */
export type Queryable = Database | Parameters<Parameters<Database['transaction']>[0]>[0];

/** A local WebSocket-to-TCP bridge (scripts/lib/ws-bridge.ts) and the per-run secret it asks for. */
export interface LocalBridge {
  /** host:port on loopback. */
  address: string;
  secret: string;
}

export interface DatabaseOptions {
  url: string;
  /** The local bridge to reach Postgres through; unset in production, where Neon speaks WebSocket itself. */
  wsProxy?: LocalBridge | undefined;
  /** Give up on a connection attempt after this long, so a dead database is an error, not a hang. */
  connectTimeoutMs?: number;
  /** Give up on a query after this long, so a database that stops answering mid-request is an error too. */
  queryTimeoutMs?: number;
}

export interface DatabaseHandle {
  db: Database;
  /** Closes every connection the pool opened; the caller hands the promise to `ctx.waitUntil`. */
  end(): Promise<void>;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
// Every query here is an indexed lookup or a one-row write; the longest legitimate wait is a
// token refresh queued behind another one's row lock while it calls GitHub.
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/**
 * The one way to reach Postgres: a Neon `Pool` that lives for one request (Workers cannot share
 * sockets between requests), wrapped in drizzle.
 */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const pool = new Pool({
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
  });
  // Neon's Pool ignores a `Client` option (it sets its own after construction), so swap it here.
  pool.Client = clientFor(options.wsProxy);
  // An idle client that loses its socket emits 'error' on the pool; without a listener that
  // would be an uncaught exception. The query that needed the socket reports the failure itself.
  pool.on('error', () => {});
  const db = drizzle({ client: pool, schema });
  let ended: Promise<void> | undefined;
  return {
    db,
    end: () => {
      ended ??= pool.end().catch(() => {});
      return ended;
    },
  };
}

/** The bridge named by the DATABASE_WS_PROXY bindings, or none (production). */
export function localBridgeOf(bindings: {
  DATABASE_WS_PROXY?: string | undefined;
  DATABASE_WS_PROXY_SECRET?: string | undefined;
}): LocalBridge | undefined {
  if (!bindings.DATABASE_WS_PROXY) return undefined;
  return { address: bindings.DATABASE_WS_PROXY, secret: bindings.DATABASE_WS_PROXY_SECRET ?? '' };
}

/**
 * A Client class whose sockets go through the given bridge, or straight to Neon. The transport is
 * set per client rather than on the global neonConfig, so pools with different transports can
 * live side by side (a Node process may talk to two servers at once). One class per transport.
 */
const clientClasses = new Map<string, typeof Client>();

function clientFor(wsProxy: LocalBridge | undefined): typeof Client {
  const key = wsProxy ? `${wsProxy.address}/${wsProxy.secret}` : '';
  const cached = clientClasses.get(key);
  if (cached) return cached;
  const transport: Partial<NeonConfig> = wsProxy
    ? {
        // Plain ws:// to the local bridge (loopback only, checked in config), and startup
        // messages one at a time: pipelining only works against Neon's own proxy.
        wsProxy: (host, port) => `${wsProxy.address}/${wsProxy.secret}/v1?address=${host}:${port}`,
        useSecureWebSocket: false,
        pipelineConnect: false,
        pipelineTLS: false,
      }
    : { useSecureWebSocket: true, pipelineConnect: 'password' };
  class TransportClient extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config);
      Object.assign(this.neonConfig, transport);
    }
  }
  clientClasses.set(key, TransportClient);
  return TransportClient;
}
