import { queryAudit } from '../audit/query.ts';
import type { Database } from '../db/client.ts';
import { type LedgerState, readLedgerState } from '../db/migration-ledger.ts';
import { probeDatabase } from '../db/probe.ts';
import { findFailingServices } from '../db/service-events.ts';
import { FAILING_REPORT_AFTER_MS } from '../events/sweep.ts';

/** How long the status line waits for the database before saying it is unreachable. */
const PROBE_TIMEOUT_MS = 3_000;

/** The console's status line: what an operator should know at a glance on every page. */
export type ConsoleStatus =
  | { reachable: false }
  | {
      reachable: true;
      migrations: LedgerState;
      /** The newest audit entry's time (an access row or a change record); null: none yet. */
      lastAuditAt: Date | null;
      /** Services whose events have failed for over an hour (as `gateway services list` marks them). */
      failingServices: string[];
    };

/**
 * Reads the status line: the /health probe, the migration ledger, the audit query's newest
 * entry and the events sweep's failing services. A database that does not answer says so and
 * nothing else (the page itself then fails, as every other page would).
 */
export async function consoleStatus(db: Database, now = new Date()): Promise<ConsoleStatus> {
  const probe = await probeDatabase(db, PROBE_TIMEOUT_MS);
  if (!probe.reachable) return { reachable: false };
  const [migrations, audit, failing] = await Promise.all([
    readLedgerState(db),
    queryAudit(db, { limit: 1 }),
    findFailingServices(db, new Date(now.getTime() - FAILING_REPORT_AFTER_MS)),
  ]);
  return {
    reachable: true,
    migrations,
    lastAuditAt: audit.entries[0]?.at ?? null,
    failingServices: failing.map((service) => service.identifier).sort(),
  };
}
