import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { inject } from 'vitest';
import { buildWorker } from '../../../bench/build.ts';
import { findFreePort } from '../../../scripts/lib/dev/ports.ts';

export interface BuiltWorkerOnDatabase {
  url: URL;
  stop(): Promise<void>;
}

/**
 * The Worker bundled as `wrangler deploy` uploads it, run in workerd (Miniflare) against a database
 * a Node-side test prepared, reached through the test run's bridge (test/support/global-setup.ts).
 * The lightest way for a node test to ask the real Worker something over HTTP.
 */
export async function startBuiltWorker(
  databaseUrl: string,
  vars: { TOKEN_ENCRYPTION_KEY: string; SESSION_SECRET: string } & Record<string, string>,
): Promise<BuiltWorkerOnDatabase> {
  const root = await mkdtemp(path.join(tmpdir(), 'gateway-built-worker-'));
  const worker = buildWorker(path.join(root, 'dist'));
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: await findFreePort(),
      name: 'gateway',
      scriptPath: worker.scriptPath,
      modulesRoot: path.dirname(worker.scriptPath),
      modules: true,
      compatibilityDate: '2026-11-01',
      bindings: {
        LOG_LEVEL: 'error',
        VERIFY_CACHE_SECONDS: '0',
        DATABASE_URL: databaseUrl,
        DATABASE_WS_PROXY: inject('wsProxy'),
        DATABASE_WS_PROXY_SECRET: inject('wsProxySecret'),
        GITHUB_CLIENT_ID: 'Iv1.rehearsal',
        GITHUB_CLIENT_SECRET: 'rehearsal-secret',
        GITHUB_OAUTH_URL: inject('githubUrl'),
        GITHUB_API_URL: inject('githubUrl'),
        ...vars,
      },
      ratelimits: {
        SERVICE_RATE_LIMIT: { namespace_id: '1001', simple: { limit: 1000, period: 60 } },
        CLIENT_RATE_LIMIT: { namespace_id: '1002', simple: { limit: 1000, period: 60 } },
      },
      queueProducers: { AUDIT_QUEUE: { queueName: 'gateway-audit' } },
      queueConsumers: { 'gateway-audit': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } },
    }),
  );
  const url = await miniflare.ready;
  return {
    url,
    stop: async () => {
      await miniflare.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}
