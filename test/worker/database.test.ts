import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

describe('the Neon driver inside workerd', () => {
  it('reaches Postgres through the WebSocket bridge and runs a query in this file’s database', async () => {
    const handle = database.open();
    try {
      const result = await handle.db.execute<{ database: string; version: string }>(
        sql`select current_database() as database, current_setting('server_version') as version`,
      );
      expect(result.rows[0]?.database).toBe(new URL(database.url).pathname.slice(1));
      expect(Number.parseInt(result.rows[0]?.version ?? '', 10)).toBeGreaterThanOrEqual(14);
    } finally {
      await handle.end();
    }
  });

  it('keeps one session for a transaction', async () => {
    const handle = database.open();
    try {
      const pids = await handle.db.transaction(async (tx) => {
        const first = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        const second = await tx.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        return [first.rows[0]?.pid, second.rows[0]?.pid];
      });
      expect(pids[0]).toBeTypeOf('number');
      expect(pids[0]).toBe(pids[1]);
    } finally {
      await handle.end();
    }
  });
});
