import type { CatalogueEntry, CatalogueKind } from './drift-catalogue.ts';

/** One way the live database differs from what its migrations describe (`db status --json` prints these). */
export interface DriftDifference {
  /** The table it belongs to; null for a function. */
  table: string | null;
  kind: CatalogueKind;
  name: string;
  difference: string;
}

export interface CatalogueComparison {
  differences: DriftDifference[];
  /** Tables in the live database that no migration creates: not the gateway's, so not compared. */
  foreignTables: string[];
}

/**
 * Compares what the migrations make (`expected`, a database migrated from empty) with the live
 * database (`actual`). Only what the gateway owns is compared: the tables its migrations create and
 * everything on them, and the functions they create. A table no migration creates (another
 * application's, in a shared database) is listed, not reported as drift; a function no migration
 * creates is not looked at. Within a table the migrations create but the database lacks, its columns
 * and indexes are not listed one by one: the table is.
 */
export function compareCatalogues(expected: CatalogueEntry[], actual: CatalogueEntry[]): CatalogueComparison {
  const key = (entry: CatalogueEntry) => `${entry.kind}\u0000${entry.table ?? ''}\u0000${entry.name}`;
  const expectedByKey = new Map(expected.map((entry) => [key(entry), entry]));
  const actualByKey = new Map(actual.map((entry) => [key(entry), entry]));
  const ownedTables = new Set(expected.filter((entry) => entry.kind === 'table').map((entry) => entry.name));
  const liveTables = new Set(actual.filter((entry) => entry.kind === 'table').map((entry) => entry.name));

  const differences: DriftDifference[] = [];
  for (const entry of expected) {
    const live = actualByKey.get(key(entry));
    if (entry.kind !== 'table' && entry.table !== null && !liveTables.has(entry.table)) continue;
    if (!live) differences.push({ ...place(entry), difference: missing(entry) });
    else if (live.definition !== entry.definition)
      differences.push({ ...place(entry), difference: changed(entry, live) });
  }
  for (const entry of actual) {
    if (entry.table === null || !ownedTables.has(entry.table) || expectedByKey.has(key(entry))) continue;
    differences.push({ ...place(entry), difference: added(entry) });
  }
  const order = (d: DriftDifference) => `${d.table ?? '~'}\u0000${KIND_ORDER.indexOf(d.kind)}\u0000${d.name}`;
  differences.sort((a, b) => order(a).localeCompare(order(b)));
  const foreignTables = [...liveTables].filter((table) => !ownedTables.has(table)).sort();
  return { differences, foreignTables };
}

const KIND_ORDER: CatalogueKind[] = ['table', 'column', 'default', 'constraint', 'index', 'trigger', 'function'];

function place(entry: CatalogueEntry): Omit<DriftDifference, 'difference'> {
  return { table: entry.table, kind: entry.kind, name: entry.name };
}

function missing(entry: CatalogueEntry): string {
  switch (entry.kind) {
    case 'table':
      return 'missing: the migrations create this table';
    case 'default':
      return `missing: the migrations set the default ${entry.definition}`;
    case 'function':
      return 'missing: the migrations create this function';
    default:
      return `missing: the migrations create ${entry.definition}`;
  }
}

function added(entry: CatalogueEntry): string {
  switch (entry.kind) {
    case 'default':
      return `added: the database has the default ${entry.definition}; the migrations set none`;
    default:
      return `added: the database has ${entry.definition}; no migration creates it`;
  }
}

function changed(entry: CatalogueEntry, live: CatalogueEntry): string {
  if (entry.kind === 'function') return 'changed: its definition differs from the one the migrations create';
  return `changed: the migrations make ${entry.definition}; the database has ${live.definition}`;
}
