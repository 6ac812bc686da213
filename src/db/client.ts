import { neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import * as schema from '../../drizzle/schema.ts';

export type Database = NeonDatabase<typeof schema> & { $client: Pool };

export interface DatabaseOptions {
  url: string;
  /** host:port of a local WebSocket-to-TCP bridge; unset in production, where Neon speaks WebSocket itself. */
  wsProxy?: string | undefined;
  /** Give up on a connection attempt after this long, so a dead database is an error, not a hang. */
  connectTimeoutMs?: number;
}

export interface DatabaseHandle {
  db: Database;
  /** Closes every connection the pool opened; the caller hands the promise to `ctx.waitUntil`. */
  end(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * The one way to reach Postgres: a Neon `Pool` that lives for one request (Workers cannot share
 * sockets between requests), wrapped in drizzle.
 */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  configureTransport(options.wsProxy);
  const pool = new Pool({
    connectionString: options.url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  });
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

/**
 * neonConfig is global to the isolate. Every request of an isolate carries the same bindings, so
 * setting it on each open is idempotent. With a bridge we talk plain ws:// to it and send the
 * startup messages one by one (pipelining only works against Neon's own proxy).
 */
function configureTransport(wsProxy: string | undefined): void {
  if (wsProxy) {
    neonConfig.wsProxy = (host, port) => `${wsProxy}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
  } else {
    neonConfig.wsProxy = (host) => `${host}/v2`;
    neonConfig.useSecureWebSocket = true;
    neonConfig.pipelineConnect = 'password';
    neonConfig.pipelineTLS = false;
  }
}
