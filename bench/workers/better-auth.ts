// Benchmark Worker: better-auth's API-key verify, set up as its docs set it up on Workers (drizzle
// on Postgres, one auth instance per request since the database handle cannot outlive it), over
// the same Neon driver and local bridge as the gateway, so both reach the same Postgres the same way.
import { apiKey } from '@better-auth/api-key';
import { Client, Pool } from '@neondatabase/serverless';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { drizzle } from 'drizzle-orm/neon-serverless';
import * as schema from '../better-auth/schema.ts';

interface Env {
  DATABASE_URL: string;
  DATABASE_WS_PROXY: string;
  DATABASE_WS_PROXY_SECRET: string;
  BETTER_AUTH_SECRET: string;
}

/** Sockets through the bench's bridge, as the gateway's own client does locally (src/db/client.ts). */
function bridgedClient(env: Env): typeof Client {
  return class BridgedClient extends Client {
    constructor(config?: ConstructorParameters<typeof Client>[0]) {
      super(config);
      Object.assign(this.neonConfig, {
        wsProxy: (host: string, port: number) =>
          `${env.DATABASE_WS_PROXY}/${env.DATABASE_WS_PROXY_SECRET}/v1?address=${host}:${port}`,
        useSecureWebSocket: false,
        pipelineConnect: false,
        pipelineTLS: false,
      });
    }
  };
}

function createAuth(env: Env) {
  const pool = new Pool({ connectionString: env.DATABASE_URL });
  pool.Client = bridgedClient(env);
  pool.on('error', () => {});
  const auth = betterAuth({
    secret: env.BETTER_AUTH_SECRET,
    baseURL: 'http://127.0.0.1',
    database: drizzleAdapter(drizzle({ client: pool, schema }), { provider: 'pg', schema }),
    telemetry: { enabled: false },
    // Quiet: a refused key is counted by its 401 (the bench sends one on purpose before measuring).
    logger: { disabled: true },
    // The plugin's defaults (keys kept in the database, no cache; a per-key rate limit counted in
    // the key's row), with a limit that never triggers, as the gateway's limiter is set in the bench.
    plugins: [apiKey({ rateLimit: { enabled: true, maxRequests: 1_000_000_000, timeWindow: 86_400_000 } })],
  });
  return { auth, end: () => pool.end().catch(() => {}) };
}

export default {
  async fetch(request: Request, env: Env, ctx: { waitUntil(promise: Promise<unknown>): void }): Promise<Response> {
    const url = new URL(request.url);
    const { auth, end } = createAuth(env);
    try {
      if (url.pathname === '/verify') {
        const { key } = (await request.json()) as { key: string };
        const result = await auth.api.verifyApiKey({ body: { key } });
        return Response.json({ valid: result.valid }, { status: result.valid ? 200 : 401 });
      }
      if (url.pathname === '/seed') {
        // Keys made by the plugin itself, for one person the bench inserted.
        const { userId, count } = (await request.json()) as { userId: string; count: number };
        const keys: string[] = [];
        for (let index = 0; index < count; index += 1) {
          const created = await auth.api.createApiKey({ body: { userId, name: `bench-${index}` } });
          keys.push(created.key);
        }
        return Response.json({ keys });
      }
      return new Response('not found', { status: 404 });
    } finally {
      ctx.waitUntil(end());
    }
  },
};
