import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decryptToken,
  encryptToken,
  generateMasterKey,
  isEncryptedToken,
  loadTokenKeyring,
} from '../../../src/crypto/token-cipher.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../../support/node/databases.ts';
import { githubLikeToken, OLD_SYSTEM_CIPHERS, oldSystemSecret } from '../../support/node/old-system-cipher.ts';
import { readTokenRows } from '../../support/node/token-rows.ts';

// A database as the old system at v1.2 left it, carried over by the commands docs/migrations.md
// gives: most tokens in the old system's own encryption (written by an independent node:crypto
// implementation, not the gateway's code), some plaintext from before v1.2, some already the
// gateway's, nulls, and one value in the old shape that its key does not open.

const OLD = OLD_SYSTEM_CIPHERS.pbkdf2Sha512;
const LEGACY_USERS = 12;

interface Seeded {
  url: string;
  legacyKey: string;
  gatewayKey: string;
  /** The token each row and column must hold once carried over (null stays null). */
  expected: Map<string, { access_token: string | null; refresh_token: string | null }>;
  /** The old-shaped value no key opens: its row and column. */
  stray: { userId: string; column: 'access_token' };
}

async function seedOldSystem(): Promise<Seeded> {
  const url = await createDatabase({ migrated: true });
  const legacyKey = oldSystemSecret();
  const gatewayKey = generateMasterKey();
  const keyring = await loadTokenKeyring(gatewayKey);
  const expected: Seeded['expected'] = new Map();
  const rows: { id: string; access: string | null; refresh: string | null }[] = [];
  for (let index = 0; index < LEGACY_USERS; index += 1) {
    const id = crypto.randomUUID();
    const access = githubLikeToken();
    const refresh = index % 3 === 0 ? null : githubLikeToken();
    rows.push({ id, access: OLD.encrypt(access, legacyKey), refresh: refresh && OLD.encrypt(refresh, legacyKey) });
    expected.set(id, { access_token: access, refresh_token: refresh });
  }
  // Before v1.2: plaintext.
  const plainId = crypto.randomUUID();
  const plain = githubLikeToken();
  rows.push({ id: plainId, access: plain, refresh: null });
  expected.set(plainId, { access_token: plain, refresh_token: null });
  // Already the gateway's own.
  const ownId = crypto.randomUUID();
  const own = githubLikeToken();
  rows.push({
    id: ownId,
    access: await encryptToken(own, keyring, { field: 'access_token', userId: ownId }),
    refresh: null,
  });
  expected.set(ownId, { access_token: own, refresh_token: null });
  // The old shape, under another key: left as it is and named.
  const strayId = crypto.randomUUID();
  const strayValue = OLD.encrypt(githubLikeToken(), oldSystemSecret());
  rows.push({ id: strayId, access: strayValue, refresh: null });
  await withDatabaseHandle(url, async ({ db }) => {
    for (const row of rows)
      await db.execute(sql`
        insert into users (id, github_user_id, access_token, refresh_token, created_at, updated_at)
        values (${row.id}, ${row.id}, ${row.access}, ${row.refresh}, now(), now())`);
  });
  return { url, legacyKey, gatewayKey, expected, stray: { userId: strayId, column: 'access_token' } };
}

const env = (seeded: Seeded, extra: Record<string, string> = {}) => ({
  DATABASE_URL: seeded.url,
  TOKEN_ENCRYPTION_KEY: seeded.gatewayKey,
  LEGACY_TOKEN_KEY: seeded.legacyKey,
  ...extra,
});

describe('gateway tokens detect-legacy', () => {
  let seeded: Seeded;
  beforeAll(async () => {
    seeded = await seedOldSystem();
  });

  it("names the old system's scheme, how many of the sample it opens, and the value it does not by user id and column", async () => {
    const result = await runOperatorCommand('gateway', ['tokens', 'detect-legacy'], env(seeded));
    expect(result.code).toBe(0);
    // 12 users: 12 access tokens and 8 refresh tokens in the old encryption, plus the stray one.
    expect(result.output).toContain(`Scheme ${OLD.expectedScheme} opens 20 of the 21 sampled values`);
    expect(result.output).toContain(`Not opened: user ${seeded.stray.userId} access_token`);
    expect(result.output).not.toContain(seeded.legacyKey);
  });

  it('--json gives the same finding in snake_case', async () => {
    const result = await runOperatorCommand('gateway', ['tokens', 'detect-legacy', '--json'], env(seeded));
    expect(result.code).toBe(0);
    const finding = JSON.parse(result.output) as Record<string, unknown>;
    expect(finding).toMatchObject({
      scheme: OLD.expectedScheme,
      sampled: 21,
      opened: 20,
      not_opened: [{ user_id: seeded.stray.userId, column: 'access_token', reason: 'not-opened' }],
    });
  });

  it('with a wrong LEGACY_TOKEN_KEY says no scheme fits and exits 1', async () => {
    const result = await runOperatorCommand(
      'gateway',
      ['tokens', 'detect-legacy', '--sample', '2'],
      env(seeded, { LEGACY_TOKEN_KEY: oldSystemSecret() }),
    );
    expect(result.code).toBe(1);
    expect(result.output).toContain('LEGACY_TOKEN_KEY opens none of the 2 sampled values');
  });

  it('without LEGACY_TOKEN_KEY says which variable to set, exit 2', async () => {
    const { LEGACY_TOKEN_KEY: _unset, ...withoutKey } = env(seeded);
    const result = await runOperatorCommand('gateway', ['tokens', 'detect-legacy'], withoutKey);
    expect(result.code).toBe(2);
    expect(result.output.trim()).toMatch(/^LEGACY_TOKEN_KEY is not set\./);
  });
});

describe('gateway tokens encrypt with LEGACY_TOKEN_KEY', () => {
  it("carries every old-system value over under the gateway's key, leaves the stray one, and a second run changes nothing (naming the stray one)", async () => {
    const seeded = await seedOldSystem();
    const before = await withDatabaseHandle(seeded.url, readTokenRows);

    const dry = await runOperatorCommand('migrate-encrypt-tokens', ['--dry-run'], env(seeded));
    expect(dry.code).toBe(0);
    expect(dry.output).toContain(`scheme ${OLD.expectedScheme} (opens 20 of 21 sampled)`);
    expect(dry.output).toContain('21 tokens would be encrypted');
    expect(await withDatabaseHandle(seeded.url, readTokenRows)).toEqual(before);

    const run = await runOperatorCommand('migrate-encrypt-tokens', [], env(seeded));
    expect(run.code).toBe(0);
    expect(run.output).toContain('21 tokens encrypted');
    expect(run.output).toContain(`of which 20 the old system's v1.2 values (scheme ${OLD.expectedScheme})`);
    expect(run.output).toContain(`user ${seeded.stray.userId} access_token`);
    expect(run.output).not.toContain(seeded.legacyKey);

    const keyring = await loadTokenKeyring(seeded.gatewayKey);
    const after = await withDatabaseHandle(seeded.url, readTokenRows);
    for (const row of after) {
      const want = seeded.expected.get(row.id);
      if (!want) {
        // The stray value: exactly as it was.
        expect(row.access_token).toBe(before.find((old) => old.id === row.id)?.access_token);
        continue;
      }
      for (const column of ['access_token', 'refresh_token'] as const) {
        const stored = row[column];
        if (want[column] === null) {
          expect(stored).toBeNull();
          continue;
        }
        expect(stored !== null && isEncryptedToken(stored)).toBe(true);
        const opened = await decryptToken(stored ?? '', keyring, { field: column, userId: row.id });
        expect(opened.plaintext).toBe(want[column]);
      }
    }

    // Only the stray value is left: the key opens nothing of what is left, which is said, not hidden.
    const again = await runOperatorCommand('migrate-encrypt-tokens', [], env(seeded));
    expect(again.code).toBe(1);
    expect(again.output).toContain(
      `LEGACY_TOKEN_KEY opens none of the 1 sampled value no configured key opens (e.g. user ${seeded.stray.userId} access_token)`,
    );
    expect(again.output).toContain('unset LEGACY_TOKEN_KEY to run `npx gateway tokens encrypt` without them');
    const { LEGACY_TOKEN_KEY: _unset, ...withoutKey } = env(seeded);
    const without = await runOperatorCommand('migrate-encrypt-tokens', [], withoutKey);
    expect(without.code).toBe(0);
    expect(without.output).toContain('0 tokens encrypted');
    expect(await withDatabaseHandle(seeded.url, readTokenRows)).toEqual(after);
  });

  it('--legacy-scheme forces a scheme by its printed id, still refusing a key that opens none of the sample; an unknown id is a usage error (exit 2)', async () => {
    const seeded = await seedOldSystem();
    const forced = await runOperatorCommand(
      'migrate-encrypt-tokens',
      ['--dry-run', '--legacy-scheme', OLD.expectedScheme],
      env(seeded),
    );
    expect(forced.code).toBe(0);
    expect(forced.output).toContain(`scheme ${OLD.expectedScheme} (opens 20 of 21 sampled, forced)`);
    expect(forced.output).toContain('of which 20 the old system');

    // A forced scheme is still tried on the sample first: with the wrong key it writes nothing.
    const before = await withDatabaseHandle(seeded.url, readTokenRows);
    const wrongKey = await runOperatorCommand(
      'migrate-encrypt-tokens',
      ['--legacy-scheme', OLD.expectedScheme],
      env(seeded, { LEGACY_TOKEN_KEY: oldSystemSecret() }),
    );
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.output).toContain('LEGACY_TOKEN_KEY opens none of the 21 sampled values');
    expect(await withDatabaseHandle(seeded.url, readTokenRows)).toEqual(before);

    const unknown = await runOperatorCommand('migrate-encrypt-tokens', ['--legacy-scheme', 'rot13'], env(seeded));
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('--legacy-scheme takes a scheme id');
  });

  it('with a LEGACY_TOKEN_KEY that opens nothing, stops before writing anything (exit 1)', async () => {
    const seeded = await seedOldSystem();
    const before = await withDatabaseHandle(seeded.url, readTokenRows);
    const result = await runOperatorCommand(
      'migrate-encrypt-tokens',
      [],
      env(seeded, { LEGACY_TOKEN_KEY: oldSystemSecret() }),
    );
    expect(result.code).toBe(1);
    expect(result.output).toContain('LEGACY_TOKEN_KEY opens none of the');
    expect(result.output).toContain('nothing was written');
    expect(await withDatabaseHandle(seeded.url, readTokenRows)).toEqual(before);
  });
});
