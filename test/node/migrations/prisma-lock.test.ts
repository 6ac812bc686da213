import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../scripts/lib/migrations/engine.ts';
import type { Session } from '../../../scripts/lib/migrations/ledger.ts';
import { withMigrationSession } from '../../../scripts/lib/migrations/session.ts';
import { runScript } from '../../support/node/child.ts';
import { gatewayArgs } from '../../support/node/commands.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';
import { withEngine } from '../../support/node/migrations.ts';

/** The key prisma-engines' Postgres connector locks in `acquire_lock` (`SELECT pg_advisory_lock(72707369)`). */
const PRISMA_LOCK = 72707369;
const GATEWAY_LOCK = '7262114505133117';

/** `npx gateway <args>` as its own process, output followed as it comes. */
function gateway(args: string[], env: Record<string, string>) {
  return runScript('scripts/gateway.ts', gatewayArgs('gateway', args), {
    ...process.env,
    DEV_VARS_FILE: '/nonexistent/.dev.vars',
    ...env,
  });
}

/** Holds Prisma Migrate's lock (as `prisma migrate deploy` does) on its own session until `work` is done. */
async function holdingPrismaLock<T>(url: string, work: (pid: number, release: () => Promise<void>) => Promise<T>) {
  return withMigrationSession(url, async ({ session }) => {
    await session.query(`select pg_advisory_lock(${PRISMA_LOCK})`);
    let held = true;
    const release = async () => {
      if (held) await session.query(`select pg_advisory_unlock(${PRISMA_LOCK})`);
      held = false;
    };
    try {
      return await work(await backendPid(session), release);
    } finally {
      await release();
    }
  });
}

async function backendPid(session: Session): Promise<number> {
  const result = await session.query<{ pid: number }>('select pg_backend_pid() as pid');
  return result.rows[0]?.pid ?? -1;
}

async function ledgerExists(url: string): Promise<boolean> {
  return withDatabaseHandle(url, async ({ db }) => {
    const rows = await db.execute<{ found: string | null }>(
      sql`select to_regclass('public._prisma_migrations') as found`,
    );
    return rows.rows[0]?.found !== null;
  });
}

describe("Prisma Migrate's advisory lock, shared with the old system", () => {
  it("db migrate waits while another session holds Prisma Migrate's lock, naming its backend pid, then fails in one line naming that lock", async () => {
    const url = await createDatabase({ migrated: false });
    await holdingPrismaLock(url, async (pid) => {
      const run = gateway(['db', 'migrate'], { DATABASE_URL: url, MIGRATION_LOCK_TIMEOUT_MS: '1500' });
      expect(await run.exited).toBe(1);
      const output = run.output();
      expect(output).toContain(
        `Waiting for Prisma Migrate's lock (pg_advisory_lock(72707369)), held by database backend pid ${pid}`,
      );
      const failure = output.split('\n').filter((line) => line.includes('was held by'));
      expect(failure).toHaveLength(1);
      expect(failure[0]).toContain(
        `Prisma Migrate's lock (pg_advisory_lock(72707369)) was held by database backend pid ${pid} for more than 2 s`,
      );
      expect(failure[0]).toContain('MIGRATION_LOCK_TIMEOUT_MS');
    });
    // Nothing was applied, not even the ledger created.
    expect(await ledgerExists(url)).toBe(false);
  });

  it("db migrate proceeds once Prisma Migrate's lock is released within the wait", async () => {
    const url = await createDatabase({ migrated: false });
    const run = await holdingPrismaLock(url, async (_pid, release) => {
      const running = gateway(['db', 'migrate'], { DATABASE_URL: url, MIGRATION_LOCK_TIMEOUT_MS: '60000' });
      await running.waitFor("Waiting for Prisma Migrate's lock");
      await release();
      return running;
    });
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain(`${repositoryMigrations().length} migrations applied.`);
  });

  it('db status takes neither lock: it answers while another session holds both', async () => {
    const url = await createDatabase({ migrated: true });
    await holdingPrismaLock(url, async () => {
      await withMigrationSession(url, async ({ session }) => {
        await session.query('select pg_advisory_lock($1::bigint)', [GATEWAY_LOCK]);
        const run = gateway(['db', 'status'], { DATABASE_URL: url, MIGRATION_LOCK_TIMEOUT_MS: '500' });
        expect(await run.exited).toBe(0);
        expect(run.output()).not.toContain('Waiting');
        await session.query('select pg_advisory_unlock($1::bigint)', [GATEWAY_LOCK]);
      });
    });
  });

  it("while migrating, one backend holds Prisma Migrate's lock and the project's own; both are free afterwards", async () => {
    const url = await createDatabase({ migrated: false });
    const folder = migrationsFolder({ '20260101000000_slow': 'SELECT pg_sleep(1);\n' });
    const holders = async () =>
      withDatabaseHandle(url, async ({ db }) => {
        const rows = await db.execute<{ pid: number; objid: string }>(
          sql`select pid, objid::text from pg_locks where locktype = 'advisory' and granted and objsubid = 1`,
        );
        return rows.rows;
      });
    const running = withEngine(url, folder, (options) => migrate(options));
    let seen: { pid: number; objid: string }[] = [];
    for (let tries = 0; tries < 100 && !seen.some((row) => row.objid === String(PRISMA_LOCK)); tries += 1) {
      seen = await holders();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const prisma = seen.find((row) => row.objid === String(PRISMA_LOCK));
    const own = seen.find((row) => row.objid === String(BigInt(GATEWAY_LOCK) & 0xffffffffn));
    expect(prisma).toBeDefined();
    expect(own?.pid).toBe(prisma?.pid);
    expect((await running).result.applied).toContain('20260101000000_slow');
    expect(await holders()).toEqual([]);
  });
});
