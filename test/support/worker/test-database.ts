import { env } from 'cloudflare:test';
import { sql } from 'drizzle-orm';
import type { Bindings } from '../../../src/config.ts';
import { type DatabaseHandle, localBridgeOf, openDatabase } from '../../../src/db/client.ts';
import { fileDatabaseName, withDatabase } from '../database-names.ts';

export interface TestDatabase {
  /** The Worker's bindings, pointing at this file's own database. */
  env: Bindings;
  url: string;
  /** A drizzle handle on the same database, for arranging rows and checking results. */
  open(): DatabaseHandle;
  /** Runs `work` with a handle that is ended afterwards. */
  use<T>(work: (db: DatabaseHandle['db']) => Promise<T>): Promise<T>;
}

/**
 * A database of this test file's own, copied from the prepared template, so files can run in
 * parallel and never see each other's rows. Call once per file (in beforeAll).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = fileDatabaseName(env.TEST_RUN_ID);
  const admin = openDatabase({ url: env.TEST_ADMIN_DATABASE_URL, wsProxy: localBridgeOf(env) });
  try {
    await admin.db.execute(
      sql`CREATE DATABASE ${sql.identifier(name)} TEMPLATE ${sql.identifier(env.TEST_TEMPLATE_DATABASE)}`,
    );
  } finally {
    await admin.end();
  }
  const url = withDatabase(env.TEST_ADMIN_DATABASE_URL, name);
  // Without AUDIT_QUEUE the Worker writes audit rows directly (after the response), into this
  // file's database; the queue would deliver them with the configured bindings, elsewhere. The
  // same for EVENTS_QUEUE: without it, events are attempted directly.
  const { AUDIT_QUEUE: _queue, EVENTS_QUEUE: _events, ...bindings } = env;
  return {
    env: { ...bindings, DATABASE_URL: url },
    url,
    open: () => openDatabase({ url, wsProxy: localBridgeOf(env) }),
    use: async (work) => {
      const handle = openDatabase({ url, wsProxy: localBridgeOf(env) });
      try {
        return await work(handle.db);
      } finally {
        await handle.end();
      }
    },
  };
}
