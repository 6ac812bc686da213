import type { DriftReport } from './drift.ts';

/**
 * The drift part of `gateway db status`: what it compared with, each difference (table, kind,
 * name, what), and what to do. It never proposes a reset: the database holds people's data.
 */
export function formatDrift(report: DriftReport): string[] {
  const lines: string[] = [];
  const against =
    report.comparedWith === 'shadow_database'
      ? 'a shadow database migrated from empty by these migrations'
      : `drizzle/schema.ts only, because ${report.reason ?? 'no shadow database could be made'}; triggers and functions were not checked`;
  if (report.differences.length === 0) {
    lines.push(`No drift: the database matches its migrations (compared with ${against}).`);
  } else {
    const count = report.differences.length;
    lines.push(
      `Drift: the database differs from what its migrations describe in ${count} place${count === 1 ? '' : 's'} (compared with ${against}):`,
    );
    const tableWidth = Math.max(...report.differences.map((d) => (d.table ?? '-').length));
    const kindWidth = Math.max(...report.differences.map((d) => d.kind.length));
    const nameWidth = Math.max(...report.differences.map((d) => d.name.length));
    for (const d of report.differences) {
      lines.push(
        `  ${(d.table ?? '-').padEnd(tableWidth)}  ${d.kind.padEnd(kindWidth)}  ${d.name.padEnd(nameWidth)}  ${d.difference}`,
      );
    }
    lines.push(
      '',
      'Someone changed the schema outside the migrations. Nothing was changed and nothing needs resetting. For each ' +
        'difference, either undo it by hand, or keep it: put the same change in drizzle/schema.ts and in a new ' +
        'migration written with IF NOT EXISTS (a no-op here, the change everywhere else; docs/migrations.md, ' +
        '"Drift"), then `npx gateway db migrate`.',
    );
  }
  if (report.foreignTables.length > 0) {
    lines.push(
      '',
      `Not compared: ${report.foreignTables.join(', ')} (no migration creates ${report.foreignTables.length === 1 ? 'it' : 'them'}; another application's?).`,
    );
  }
  return lines;
}
