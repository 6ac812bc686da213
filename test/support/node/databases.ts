import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { inject } from 'vitest';
import { type NodeDatabase, openNodeDatabase } from '../../../scripts/lib/node-database.ts';
import { fileDatabaseName, withDatabase } from '../database-names.ts';

/** A new database with nothing in it (or a copy of the migrated template), for one test. */
export async function createDatabase(options: { migrated: boolean }): Promise<string> {
  const name = fileDatabaseName(inject('runId'));
  const admin = await openNodeDatabase(inject('adminDatabaseUrl'));
  try {
    await admin.db.execute(
      options.migrated
        ? sql`CREATE DATABASE ${sql.identifier(name)} TEMPLATE ${sql.identifier(inject('templateDatabase'))}`
        : sql`CREATE DATABASE ${sql.identifier(name)}`,
    );
  } finally {
    await admin.close();
  }
  return withDatabase(inject('adminDatabaseUrl'), name);
}

/** Runs `work` with a drizzle handle on `url`, closing it afterwards. */
export async function withDatabaseHandle<T>(url: string, work: (database: NodeDatabase) => Promise<T>): Promise<T> {
  const database = await openNodeDatabase(url);
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}

/** The migration folders of this repository, oldest first. */
export function repositoryMigrations(): string[] {
  return readdirSync(path.resolve('migrations'))
    .filter((name) => /^\d{14}_/.test(name))
    .sort();
}

/**
 * A temporary migrations folder holding the project's history plus `extra` migrations
 * (folder name -> SQL), so a test can add, break or edit migrations without touching the repo.
 */
export function migrationsFolder(extra: Record<string, string> = {}): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'gateway-migrations-'));
  cpSync(path.resolve('migrations'), folder, { recursive: true });
  for (const [name, body] of Object.entries(extra)) writeMigrationFile(folder, name, body);
  return folder;
}

export function writeMigrationFile(folder: string, name: string, body: string): void {
  mkdirSync(path.join(folder, name), { recursive: true });
  writeFileSync(path.join(folder, name, 'migration.sql'), body);
}
