import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { findFreePort } from '../scripts/lib/dev/ports.ts';
import { ensureDatabase, openNodeDatabase } from '../scripts/lib/node-database.ts';
import { generateMasterKey } from '../src/crypto/token-cipher.ts';
import { buildWorker } from './build.ts';
import { childWorkerdPids, type GatewayStack, processCpuMs, type RunningWorker } from './gateway-stack.ts';

/** How many keys the "many keys" scenario takes in turn. */
export const BETTER_AUTH_KEYS = 200;

export interface BetterAuthWorker extends RunningWorker {
  /** Keys made by better-auth's createApiKey, all for one person. */
  keys: string[];
}

/**
 * better-auth 1.7 with its API-key plugin, in workerd through Miniflare like the gateway, on a
 * database of its own in the bench's Postgres and through the same bridge (so its connections
 * and frames are counted the same way).
 */
export async function startBetterAuth(stack: GatewayStack): Promise<BetterAuthWorker> {
  await ensureDatabase(stack.postgres.url(), 'bench_better_auth');
  const databaseUrl = stack.postgres.url('bench_better_auth');
  const database = await openNodeDatabase(databaseUrl);
  const userId = 'bench-better-auth-person';
  try {
    await database.db.execute(sql.raw(readFileSync('bench/better-auth/schema.sql', 'utf8')));
    await database.db.execute(
      sql`insert into "user" (id, name, email, email_verified) values (${userId}, 'Bench', 'bench@example.com', true)`,
    );
  } finally {
    await database.close();
  }
  const outDir = await mkdtemp(path.join(tmpdir(), 'bench-better-auth-'));
  const built = buildWorker(outDir, 'bench/workers/better-auth.toml');
  const started = performance.now();
  const workerdBefore = new Set(childWorkerdPids());
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: await findFreePort(),
      name: 'better-auth',
      scriptPath: built.scriptPath,
      modulesRoot: path.dirname(built.scriptPath),
      modules: true,
      compatibilityDate: '2026-11-01',
      compatibilityFlags: ['nodejs_compat'],
      bindings: {
        DATABASE_URL: databaseUrl,
        DATABASE_WS_PROXY: stack.bridge.proxyAddress,
        DATABASE_WS_PROXY_SECRET: stack.bridge.secret,
        BETTER_AUTH_SECRET: generateMasterKey(),
      },
    }),
  );
  const url = await miniflare.ready;
  const startupMs = Math.round(performance.now() - started);
  const stop = async () => {
    await miniflare.dispose();
    await rm(outDir, { recursive: true, force: true });
  };
  try {
    const seeded = await fetch(new URL('/seed', url), {
      method: 'POST',
      body: JSON.stringify({ userId, count: BETTER_AUTH_KEYS }),
    });
    if (!seeded.ok) throw new Error(`better-auth did not make its keys (${seeded.status}): ${await seeded.text()}`);
    const { keys } = (await seeded.json()) as { keys: string[] };
    const refused = await fetch(new URL('/verify', url), {
      method: 'POST',
      body: JSON.stringify({ key: `${keys[0]?.slice(0, -1)}!` }),
    });
    await refused.text();
    if (refused.status !== 401) throw new Error(`better-auth took a key it never made (${refused.status})`);
    const workerd = childWorkerdPids().find((pid) => !workerdBefore.has(pid));
    return {
      url,
      keys,
      startupMs,
      cpuMs: () => (workerd === undefined ? Number.NaN : processCpuMs(workerd)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
