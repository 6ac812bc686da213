import { sql } from 'drizzle-orm';
import type { Database } from './client.ts';

export type ProbeResult = { reachable: true; roundTripMs: number } | { reachable: false; reason: 'timeout' | 'error' };

/**
 * One `select 1`, bounded in time. The time includes opening the connection, because that is
 * what a request pays on a cold pool.
 */
export async function probeDatabase(db: Database, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([db.execute(sql`select 1`).then(() => 'ok' as const), timeout]);
    if (outcome === 'timeout') return { reachable: false, reason: 'timeout' };
    return { reachable: true, roundTripMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch {
    return { reachable: false, reason: 'error' };
  } finally {
    clearTimeout(timer);
  }
}
