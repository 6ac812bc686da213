import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDatabaseUrlForOperators } from '../../scripts/lib/dev/dev-stack.ts';
import { readDevVars } from '../../scripts/lib/dev-vars.ts';
import { appendSecretFile, writeSecretFile } from '../../scripts/lib/secret-files.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'gateway-secret-files-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('local secret files', () => {
  it('are 0600 after a write or an append, even when the file existed readable by others', () => {
    const written = path.join(root, 'written.vars');
    writeFileSync(written, 'OLD=1\n', { mode: 0o644 });
    writeSecretFile(written, 'SECRET="x"\n');
    expect(modeOf(written)).toBe('600');

    const appended = path.join(root, 'appended.vars');
    writeFileSync(appended, 'OLD=1\n', { mode: 0o644 });
    appendSecretFile(appended, 'SECRET="x"\n');
    expect(modeOf(appended)).toBe('600');
    expect(readFileSync(appended, 'utf8')).toBe('OLD=1\nSECRET="x"\n');
  });

  it.each([
    ['0777', 0o777],
    ['1777 (as /tmp)', 0o1777],
  ])('are refused in a folder anyone can write to (%s)', async (_label, mode) => {
    const shared = path.join(root, `shared-${mode.toString(8)}`);
    mkdirSync(shared);
    await chmod(shared, mode);
    expect(() => writeSecretFile(path.join(shared, '.dev.vars'), 'SECRET="x"\n')).toThrow(
      /anyone on this machine can write to that folder/,
    );
    expect(() => appendSecretFile(path.join(shared, '.dev.vars'), 'SECRET="x"\n')).toThrow(
      /anyone on this machine can write to that folder/,
    );
  });
});

describe('the local DATABASE_URL kept in .dev.vars for the operator commands', () => {
  const local = 'postgres://postgres:new-random-password@127.0.0.1:54329/gateway';

  it('replaces the old postgres/postgres line and keeps every other line', () => {
    const file = path.join(root, 'old.dev.vars');
    writeFileSync(
      file,
      '# mine\nSESSION_SECRET="s"\nDATABASE_URL=postgres://postgres:postgres@127.0.0.1:54329/gateway\n',
    );
    expect(recordDatabaseUrlForOperators(file, local, 54329)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(`# mine\nSESSION_SECRET="s"\nDATABASE_URL="${local}"\n`);
    expect(modeOf(file)).toBe('600');
  });

  it('adds the line to a .dev.vars without one', () => {
    const file = path.join(root, 'none.dev.vars');
    writeFileSync(file, 'SESSION_SECRET="s"\n');
    expect(recordDatabaseUrlForOperators(file, local, 54329)).toBe(true);
    expect(readDevVars(file)).toEqual({ SESSION_SECRET: 's', DATABASE_URL: local });
  });

  it('never overwrites a DATABASE_URL that names another server', () => {
    const file = path.join(root, 'neon.dev.vars');
    const neon = 'DATABASE_URL=postgres://u:p@ep-x-123.eu-central-1.aws.neon.tech/neondb?sslmode=require\n';
    writeFileSync(file, neon);
    expect(recordDatabaseUrlForOperators(file, local, 54329)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(neon);
  });
});
