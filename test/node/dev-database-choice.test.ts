import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { externalDatabaseUrlOf, recordDatabaseUrlForOperators } from '../../scripts/lib/dev/dev-stack.ts';
import { readDevVars } from '../../scripts/lib/dev-vars.ts';

// What `npm run dev` starts, given DATABASE_URL from the environment and from .dev.vars.
const OWN_PORT = 18339;
const earlierRun = 'postgres://postgres:old-password@127.0.0.1:54329/gateway';
const anotherServer = 'postgres://app:secret@db.example.com:5432/gateway';

describe('npm run dev chooses its database', () => {
  it('starts its own Postgres when .dev.vars holds the local URL an earlier run with another PGPORT wrote', () => {
    expect(externalDatabaseUrlOf(undefined, earlierRun, OWN_PORT)).toBeUndefined();
    expect(externalDatabaseUrlOf(undefined, earlierRun.replace('54329', String(OWN_PORT)), OWN_PORT)).toBeUndefined();
  });

  it('uses another server that .dev.vars or the environment names', () => {
    expect(externalDatabaseUrlOf(undefined, anotherServer, OWN_PORT)).toBe(anotherServer);
    expect(externalDatabaseUrlOf(anotherServer, undefined, OWN_PORT)).toBe(anotherServer);
    // A loopback database that is not the stack's own (another user or database) is another server.
    const ownServer = 'postgres://me:pw@127.0.0.1:5432/myapp';
    expect(externalDatabaseUrlOf(undefined, ownServer, OWN_PORT)).toBe(ownServer);
  });

  it('takes a loopback URL set in the environment at its word unless it is this stack’s own port', () => {
    expect(externalDatabaseUrlOf(earlierRun, undefined, OWN_PORT)).toBe(earlierRun);
    expect(externalDatabaseUrlOf(earlierRun, undefined, 54329)).toBeUndefined();
  });

  it('replaces the local URL an earlier run wrote into .dev.vars, never another server’s', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'dev-choice-'));
    const devVars = path.join(folder, '.dev.vars');
    const now = `postgres://postgres:new-password@127.0.0.1:${OWN_PORT}/gateway`;
    writeFileSync(devVars, `DATABASE_URL=${earlierRun}\n`, { mode: 0o600 });
    expect(recordDatabaseUrlForOperators(devVars, now, OWN_PORT)).toBe(true);
    expect(readDevVars(devVars).DATABASE_URL).toBe(now);
    writeFileSync(devVars, `DATABASE_URL=${anotherServer}\n`, { mode: 0o600 });
    expect(recordDatabaseUrlForOperators(devVars, now, OWN_PORT)).toBe(false);
    expect(readDevVars(devVars).DATABASE_URL).toBe(anotherServer);
  });
});
