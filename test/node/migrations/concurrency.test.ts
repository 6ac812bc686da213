import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../scripts/lib/migrations/engine.ts';
import { MigrationError } from '../../../scripts/lib/migrations/errors.ts';
import { acquireMigrationLock } from '../../../scripts/lib/migrations/lock.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';
import { withEngine } from '../../support/node/migrations.ts';

describe('two migration runners at once', () => {
  it('apply each migration exactly once: one runs, the other waits and then finds nothing pending', async () => {
    const url = await createDatabase({ migrated: false });
    // A slow migration keeps the first runner busy while the second arrives.
    const folder = migrationsFolder({
      '20260101000000_slow': 'SELECT pg_sleep(0.5);\nCREATE TABLE "slow_done" (id int);\n',
    });
    const [first, second] = await Promise.all([
      withEngine(url, folder, (options) => migrate(options)),
      withEngine(url, folder, (options) => migrate(options)),
    ]);
    const applied = [...first.result.applied, ...second.result.applied].sort();
    expect(applied).toEqual([...repositoryMigrations(), '20260101000000_slow'].sort());
    // One of them did all the work; the other announced that it waited.
    expect([first.result.applied.length, second.result.applied.length].sort()).toEqual([0, applied.length]);
    const waiter = first.result.applied.length === 0 ? first : second;
    expect(waiter.lines.some((line) => line.startsWith('Waiting for another migration runner'))).toBe(true);

    await withDatabaseHandle(url, async ({ db }) => {
      const rows = await db.execute<{ count: number }>(sql`select count(*)::int as count from _prisma_migrations`);
      expect(rows.rows[0]?.count).toBe(applied.length);
    });
  });

  it('gives up after its wait with a message naming the lock holder', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    await withEngine(url, folder, async ({ session }) => {
      const release = await acquireMigrationLock(session, 1000, () => {});
      try {
        const error = await withEngine(url, folder, (options) => migrate(options), { lockWaitMs: 600 }).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(MigrationError);
        expect((error as MigrationError).code).toBe('lock_timeout');
        expect((error as MigrationError).message).toMatch(/database backend pid \d+\) held the migration lock/);
        expect((error as MigrationError).message).toContain('pg_terminate_backend(');
      } finally {
        await release();
      }
    });
  });
});
