import type { Command } from 'commander';
import { escapeControl } from '../../../../src/validation/control-characters.ts';

/** The whole usage line of a command, e.g. `gateway db resolve --applied <name> | --rolled-back <name>`. */
export function usageLine(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return `${names.join(' ')} ${command.usage()}`.trim();
}

/** Repeatable flags (`--scope a --scope b`) collect into a list. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** "1 entry", "2 entries": a count that reads right. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/**
 * A text table: a header row, then one row per item, columns padded to their widest cell. Every
 * cell is escaped: values from the database cannot forge a row or send the terminal a sequence.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(escapeControl))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
