import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findDataLoss } from './data-loss.ts';
import { newMigrationName, readMigrations } from './files.ts';
import { unguardedStatementNotes, withIfNotExists } from './if-not-exists.ts';
import type { SchemaDiff } from './schema-diff.ts';
import { splitSqlStatements } from './sql-statements.ts';

/** Writes the schema difference as a new migration folder; returns its name. */
export function writeMigration(migrationsDir: string, label: string, diff: SchemaDiff, now = new Date()): string {
  const existing = readMigrations(migrationsDir).map((migration) => migration.name);
  const name = newMigrationName(label, existing, now);
  const statements = diff.statements.map(withIfNotExists);
  const header = [
    `-- ${name}`,
    '-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file',
    '-- is exactly what `npx gateway db migrate` will run in production.',
    ...unguardedStatementNotes(statements),
  ];
  // Our own check decides (drizzle-kit only warns when the affected table has rows right now).
  const losses = findDataLoss(splitSqlStatements(statements.join('\n')));
  if (losses.length > 0 || diff.warnings.length > 0) {
    header.push('--', '-- This migration loses data:');
    for (const loss of losses) header.push(`--   ${loss.reason}: ${loss.statement}`);
    for (const warning of diff.warnings) header.push(`--   ${warning.replace(/\s+/g, ' ')}`);
    header.push(
      '-- If that is intended, add a line `-- migrate:accept-data-loss <reason>`; until then it will not apply.',
    );
  }
  const folder = path.join(migrationsDir, name);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'migration.sql'), `${header.join('\n')}\n\n${statements.join('\n\n')}\n`);
  return name;
}
