import type { DriftReport } from './drift.ts';
import { formatDrift } from './drift-format.ts';
import type { MigrationStatus } from './status.ts';

/** The migrations the old Prisma system applied; this project carries them over with rewritten SQL. */
export const HISTORICAL_MIGRATIONS = new Set([
  '20241211000000_initial_setup',
  '20251212003115_add_service_registry',
  '20251212003212_',
  '20251213000000_encrypt_github_tokens',
]);

/**
 * A table of every migration and, under it, what each state that needs attention means and what to
 * run; then drift, when it was checked (only once every migration is applied).
 */
export function formatStatus(statuses: MigrationStatus[], drift?: DriftReport): string {
  if (statuses.length === 0) return 'No migrations in this checkout and none applied.';
  const width = Math.max(...statuses.map((status) => status.name.length));
  const lines = statuses.map((status) =>
    `  ${status.state.padEnd(8)}  ${status.name.padEnd(width)}  ${detail(status)}`.trimEnd(),
  );

  const counts = new Map<string, number>();
  for (const status of statuses) counts.set(status.state, (counts.get(status.state) ?? 0) + 1);
  const notApplied = [...counts].filter(([state]) => state !== 'applied');
  lines.push('');
  const drifted = drift !== undefined && drift.differences.length > 0;
  lines.push(
    notApplied.length > 0
      ? `Not up to date: ${notApplied.map(([state, count]) => `${count} ${state}`).join(', ')}.`
      : drifted
        ? `Not up to date: ${statuses.length} migrations applied, but the database has drifted from them.`
        : `Up to date: ${statuses.length} migrations applied.`,
  );
  for (const advice of adviceFor(statuses)) lines.push('', advice);
  if (drift) lines.push('', ...formatDrift(drift));
  return lines.join('\n');
}

function detail(status: MigrationStatus): string {
  const when = status.row?.finished_at ?? status.row?.started_at;
  const date = when ? when.toISOString().replace('T', ' ').slice(0, 19) : '';
  switch (status.state) {
    case 'applied':
      return `applied ${date}`;
    case 'pending':
      return '';
    case 'failed':
      return `started ${date}, did not finish${status.row?.logs ? `: ${status.row.logs.split('\n')[0]}` : ''}`;
    case 'modified':
      return `applied ${date}; checksum then ${short(status.row?.checksum)}, file now ${short(status.file?.checksum)}`;
    case 'unknown':
      return `applied ${date}; no such folder in this checkout`;
  }
}

function adviceFor(statuses: MigrationStatus[]): string[] {
  const advice: string[] = [];
  const named = (state: string) => statuses.filter((status) => status.state === state).map((status) => status.name);
  const pending = named('pending');
  const failed = named('failed');
  const modified = named('modified');
  const unknown = named('unknown');
  if (failed.length > 0) {
    advice.push(
      `Failed: ${failed.join(', ')} did not finish, and nothing more applies until it is resolved. If the database holds ` +
        `none of it, fix the file and run \`npx gateway db resolve --rolled-back ${failed[0]}\` (it runs again); ` +
        `if you completed it by hand, \`npx gateway db resolve --applied ${failed[0]}\`.`,
    );
  }
  if (pending.length > 0)
    advice.push(`Pending: run \`npx gateway db migrate\` to apply ${pending.length === 1 ? 'it' : 'them'}.`);
  const historical = modified.filter((name) => HISTORICAL_MIGRATIONS.has(name));
  const edited = modified.filter((name) => !HISTORICAL_MIGRATIONS.has(name));
  if (historical.length > 0) {
    advice.push(
      `Modified, from the old system: ${historical.join(', ')}. This database was migrated by the old Prisma system, whose ` +
        "SQL files differ byte for byte from this project's rewrite of the same history, so their checksums differ. " +
        "Nothing is re-run. Record this checkout's files as the applied ones: " +
        '`npx gateway db resolve --applied NAME` for each (docs/migrations.md, "Adopting"); once every migration is ' +
        'applied, `npx gateway db status` checks the schema against them (drift).',
    );
  }
  if (edited.length > 0) {
    advice.push(
      `Modified: ${edited.join(', ')} changed after being applied; the database still has the old version. Applied ` +
        'migrations are not edited: restore the file from git and put the change in a new migration. If the database ' +
        'really holds the new version, `npx gateway db resolve --applied NAME` records it.',
    );
  }
  if (unknown.length > 0) {
    advice.push(
      `Unknown: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} applied in the database but not in this ` +
        'checkout. Update the checkout (git pull) before migrating; a checkout older than its database must not deploy.',
    );
  }
  return advice;
}

function short(checksum: string | undefined): string {
  return checksum ? `${checksum.slice(0, 12)}…` : '?';
}
