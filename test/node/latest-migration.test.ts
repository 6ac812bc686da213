import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../scripts/lib/migrations/files.ts';
import { LATEST_MIGRATION } from '../../src/db/migration-ledger.ts';

describe('the Worker’s latest migration', () => {
  it('is the last migration in migrations/ (the console’s status line compares the ledger with it)', () => {
    const names = readMigrations(path.resolve(import.meta.dirname, '../../migrations')).map((each) => each.name);
    expect(LATEST_MIGRATION).toBe(names.at(-1));
  });
});
