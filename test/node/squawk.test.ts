import { spawnSync } from 'node:child_process';
import { globSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeMigrationFile } from '../support/node/databases.ts';

function squawk(files: string[]) {
  const result = spawnSync(
    path.resolve('node_modules/.bin/squawk'),
    ['--reporter', 'gcc', '--config', '.squawk.toml', ...files],
    {
      encoding: 'utf8',
    },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('squawk', () => {
  it('finds nothing to object to in the migrations (historical findings are allowed with reasons)', () => {
    const files = globSync('migrations/*/migration.sql');
    expect(files.length).toBeGreaterThanOrEqual(4);
    const result = squawk(files);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('objects to an unsafe new migration, so the check above can fail', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'squawk-'));
    writeMigrationFile(
      folder,
      '20260101000000_unsafe',
      'CREATE INDEX "users_expires_at_idx" ON "users"("expires_at");\n',
    );
    const result = squawk([path.join(folder, '20260101000000_unsafe', 'migration.sql')]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('require-concurrent-index-creation');
  });
});
