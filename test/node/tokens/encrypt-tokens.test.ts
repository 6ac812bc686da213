import { describe, expect, it } from 'vitest';
import { openNodeDatabase } from '../../../scripts/lib/node-database.ts';
import { reencryptTokens } from '../../../scripts/lib/operator/token-reencryption.ts';
import {
  decryptToken,
  generateMasterKey,
  isEncryptedToken,
  loadTokenKeyring,
} from '../../../src/crypto/token-cipher.ts';
import { runScript } from '../../support/node/child.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../../support/node/databases.ts';
import { readTokenRows, seedTokenRows, type TokenRow } from '../../support/node/token-rows.ts';

type Expected = Map<string, { access: string | null; refresh: string | null }>;

/** Every stored token is either still the original plaintext or encrypts exactly the original. */
async function expectIntact(
  rows: TokenRow[],
  expected: Expected,
  key: string,
): Promise<{ encrypted: number; plain: number }> {
  const keyring = await loadTokenKeyring(key);
  const counts = { encrypted: 0, plain: 0 };
  for (const row of rows) {
    const original = expected.get(row.id);
    for (const [field, stored, plain] of [
      ['access_token', row.access_token, original?.access],
      ['refresh_token', row.refresh_token, original?.refresh],
    ] as const) {
      if (plain === null) {
        expect(stored).toBeNull();
      } else if (stored !== null && isEncryptedToken(stored)) {
        // Decrypts to the token itself, not to another ciphertext: encrypted exactly once.
        expect((await decryptToken(stored, keyring, { field, userId: row.id })).plaintext).toBe(plain);
        counts.encrypted += 1;
      } else {
        expect(stored).toBe(plain);
        counts.plain += 1;
      }
    }
  }
  return counts;
}

const mixed = (index: number) =>
  [
    { access: 'plain', refresh: 'plain' },
    { access: 'sealed', refresh: 'null' },
    { access: 'null', refresh: 'null' },
    { access: 'plain', refresh: 'null' },
  ][index % 4] as { access: 'plain' | 'null' | 'sealed'; refresh: 'plain' | 'null' | 'sealed' };

const userIdsIn = (output: string) => output.match(/user [0-9a-f-]{36}/g)?.length ?? 0;
const linesMentioning = (output: string, text: string) => output.split('\n').filter((line) => line.includes(text));

/** `count` users whose access token was sealed under a key nobody configured any more; then `command` runs. */
async function runOnTokensUnderALostKey(
  count: number,
  command: string,
  args: string[] = [],
  settings: Record<string, string> = {},
) {
  const url = await createDatabase({ migrated: true });
  await withDatabaseHandle(url, async (database) =>
    seedTokenRows(
      database,
      count,
      () => ({ access: 'sealed', refresh: 'null' }),
      await loadTokenKeyring(generateMasterKey()),
    ),
  );
  const before = await withDatabaseHandle(url, readTokenRows);
  const result = await runOperatorCommand(command, args, {
    DATABASE_URL: url,
    TOKEN_ENCRYPTION_KEY: generateMasterKey(),
    ...settings,
  });
  return { url, before, result };
}

describe('npm run migrate:encrypt-tokens', () => {
  it('dry run changes nothing; a real run encrypts exactly the plaintext tokens; a second run changes nothing', async () => {
    const key = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    const expected = await withDatabaseHandle(url, (database) =>
      loadTokenKeyring(key).then((keyring) => seedTokenRows(database, 8, mixed, keyring)),
    );
    const env = { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: key };
    const before = await withDatabaseHandle(url, readTokenRows);

    const dry = await runOperatorCommand('migrate-encrypt-tokens', ['--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('Dry run: nothing was written. 8 users');
    expect(dry.output).toContain('6 tokens would be encrypted');
    expect(dry.output).toContain('2 tokens already encrypted, skipped');
    expect(dry.output).toContain('8 null tokens, kept null');
    expect(await withDatabaseHandle(url, readTokenRows)).toEqual(before);

    const real = await runOperatorCommand('migrate-encrypt-tokens', [], env);
    expect(real.code).toBe(0);
    expect(real.output).toContain('6 tokens encrypted');
    expect(real.output).toContain('0 tokens failed');
    const after = await withDatabaseHandle(url, readTokenRows);
    expect(await expectIntact(after, expected, key)).toEqual({ encrypted: 8, plain: 0 });
    // Values that were already encrypted are byte for byte what they were.
    for (const row of before.filter(
      (candidate) => candidate.access_token && isEncryptedToken(candidate.access_token),
    )) {
      expect(after.find((candidate) => candidate.id === row.id)?.access_token).toBe(row.access_token);
    }
    for (const text of [dry.output, real.output]) {
      for (const plain of expected.values()) if (plain.access) expect(text).not.toContain(plain.access);
    }

    const again = await runOperatorCommand('migrate-encrypt-tokens', [], env);
    expect(again.output).toContain('0 tokens encrypted');
    expect(await withDatabaseHandle(url, readTokenRows)).toEqual(after);
  });

  it('killed part-way, then run again: every token encrypted exactly once, none lost', async () => {
    const key = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    const expected = await withDatabaseHandle(url, (database) =>
      seedTokenRows(database, 4_000, () => ({ access: 'plain', refresh: 'plain' })),
    );
    const { DATABASE_URL: _u, TOKEN_ENCRYPTION_KEY: _k, ...inherited } = process.env;
    const first = runScript('scripts/gateway.ts', ['tokens', 'encrypt', '--batch-size', '50', '--verbose'], {
      ...inherited,
      DATABASE_URL: url,
      TOKEN_ENCRYPTION_KEY: key,
    });
    await first.waitFor('batch 10:');
    first.child.kill('SIGKILL');
    await first.exited;

    const interrupted = await expectIntact(await withDatabaseHandle(url, readTokenRows), expected, key);
    expect(interrupted.encrypted).toBeGreaterThanOrEqual(10 * 50 * 2);
    expect(interrupted.plain).toBeGreaterThan(0);
    expect(interrupted.encrypted % 2).toBe(0); // whole rows: both tokens of a row or neither

    const second = await runOperatorCommand('migrate-encrypt-tokens', ['--batch-size', '500'], {
      DATABASE_URL: url,
      TOKEN_ENCRYPTION_KEY: key,
    });
    expect(second.code).toBe(0);
    expect(second.output).toContain(`${interrupted.plain} tokens encrypted`);
    expect(await expectIntact(await withDatabaseHandle(url, readTokenRows), expected, key)).toEqual({
      encrypted: 8_000,
      plain: 0,
    });
  });

  it('processes 10,000 rows holding no more than one batch in memory', async () => {
    const key = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, (database) =>
      seedTokenRows(database, 10_000, () => ({ access: 'plain', refresh: 'null' })),
    );
    const database = await openNodeDatabase(url);
    try {
      const report = await reencryptTokens({
        db: database.db,
        keyring: await loadTokenKeyring(key),
        mode: 'encrypt-plaintext',
        dryRun: false,
        batchSize: 500,
        log: () => {},
      });
      expect(report).toMatchObject({
        rows: 10_000,
        encrypted: 10_000,
        nulls: 10_000,
        failed: 0,
        batches: 20,
        peakRowsInMemory: 500,
      });
    } finally {
      await database.close();
    }
  }, 120_000);

  it('ends by saying TOKEN_PLAINTEXT=refuse can now be set, and how, once no plaintext token is left; not before', async () => {
    const key = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, (database) =>
      loadTokenKeyring(key).then((keyring) => seedTokenRows(database, 4, mixed, keyring)),
    );
    const env = { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: key };
    const lastLine = (output: string) => output.trim().split('\n').at(-1) ?? '';

    const dry = await runOperatorCommand('migrate-encrypt-tokens', ['--dry-run'], env);
    expect(dry.output).not.toContain('TOKEN_PLAINTEXT');
    const real = await runOperatorCommand('migrate-encrypt-tokens', [], env);
    expect(real.code).toBe(0);
    expect(lastLine(real.output)).toContain('No plaintext token is left: TOKEN_PLAINTEXT=refuse can now be set');
    expect(lastLine(real.output)).toContain('npx wrangler secret put TOKEN_PLAINTEXT');
    const again = await runOperatorCommand('migrate-encrypt-tokens', ['--dry-run'], env);
    expect(lastLine(again.output)).toContain('TOKEN_PLAINTEXT=refuse can now be set');
  });

  it.each(['', ' ', '1e3', '0x10', '-1', '1.5', 'abc', '0', '5001'])(
    '--batch-size %j exits 2, naming the flag and what it takes, before touching the database',
    async (size) => {
      const result = await runOperatorCommand('migrate-encrypt-tokens', [`--batch-size=${size}`], {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        TOKEN_ENCRYPTION_KEY: generateMasterKey(),
      });
      expect(result.code).toBe(2);
      expect(result.output.split('\n')[0]).toBe(
        `--batch-size takes a whole number of rows from 1 to 5000, in plain decimal digits; got ${JSON.stringify(size)}.`,
      );
    },
  );

  it('without a key, exits 2 and says how to get one', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('migrate-encrypt-tokens', [], { DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.output).toContain('TOKEN_ENCRYPTION_KEY is not set');
    expect(result.output).toContain('npx gateway tokens generate-key');
  });
});

describe('npm run tokens:rotate', () => {
  it('re-encrypts every token under the current key, so the new key alone decrypts them all', async () => {
    const oldKey = generateMasterKey();
    const newKey = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    const expected = await withDatabaseHandle(url, async (database) =>
      seedTokenRows(database, 12, mixed, await loadTokenKeyring(oldKey)),
    );
    const env = { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_PREVIOUS_KEYS: oldKey };

    const dry = await runOperatorCommand('tokens-rotate', ['--dry-run'], env);
    expect(dry.output).toContain('12 tokens would be encrypted'); // 9 plaintext, 3 under the old key
    const rotated = await runOperatorCommand('tokens-rotate', [], env);
    expect(rotated.code).toBe(0);
    expect(rotated.output).toContain('12 tokens re-encrypted under the current key');
    expect(await expectIntact(await withDatabaseHandle(url, readTokenRows), expected, newKey)).toEqual({
      encrypted: 12,
      plain: 0,
    });

    const again = await runOperatorCommand('tokens-rotate', [], env);
    expect(again.output).toContain('0 tokens re-encrypted');
    expect(again.output).toContain('12 tokens already under the current key, skipped');
  });

  it("summarises encrypted tokens no configured key reads (the old system's own encryption) in one count with three example rows, leaves them, exits 0", async () => {
    const { url, before, result } = await runOnTokensUnderALostKey(30, 'migrate-encrypt-tokens');
    expect(result.code).toBe(0);
    expect(result.output).toContain('0 tokens already encrypted, skipped');
    expect(result.output).toContain('30 tokens encrypted, but no configured key reads them; left as they were');
    expect(result.output).toMatch(
      /^ {4}e\.g\. user [0-9a-f-]{36} access_token, user [0-9a-f-]{36} access_token, user [0-9a-f-]{36} access_token$/m,
    );
    expect(userIdsIn(result.output)).toBe(3);
    expect(linesMentioning(result.output, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS')).toHaveLength(1);
    expect(result.output).not.toContain('no configured key reads it');
    expect(await withDatabaseHandle(url, readTokenRows)).toEqual(before);
  });

  it('counts a token no configured key can read as failed, leaves it, and exits 1', async () => {
    const { url, before, result } = await runOnTokensUnderALostKey(2, 'tokens-rotate');
    expect(result.code).toBe(1);
    expect(result.output).toContain('2 tokens failed');
    expect(await withDatabaseHandle(url, readTokenRows)).toEqual(before);
  });

  it.each([[[]], [['--dry-run']]])(
    'a new key without TOKEN_ENCRYPTION_PREVIOUS_KEYS (args %j): no line per token, one count by kind with three example rows, one line naming the variable, exit 1',
    async (args) => {
      const { url, before, result } = await runOnTokensUnderALostKey(60, 'tokens-rotate', args);
      expect(result.code).toBe(1);
      expect(result.output).not.toContain('cannot read it');
      expect(result.output).toContain('  60 tokens failed; left as they were:');
      expect(result.output).toContain('    60 tokens: no configured key opens them');
      expect(userIdsIn(result.output)).toBe(3);
      const hint = linesMentioning(result.output, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS');
      expect(hint).toHaveLength(1);
      expect(hint[0]).toContain('TOKEN_ENCRYPTION_PREVIOUS_KEYS is not set');
      expect(hint[0]).toContain('the key they were written with');
      expect(hint[0]).toContain('docs/security.md');
      expect(result.output.trim().split('\n').length).toBeLessThan(15);
      expect(await withDatabaseHandle(url, readTokenRows)).toEqual(before);
    },
  );

  it('previous keys that do not open the tokens: the hint says the list lacks the key they were written with', async () => {
    const { result } = await runOnTokensUnderALostKey(4, 'tokens-rotate', [], {
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: generateMasterKey(),
    });
    expect(result.code).toBe(1);
    const hint = linesMentioning(result.output, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS');
    expect(hint).toHaveLength(1);
    expect(hint[0]).toContain('TOKEN_ENCRYPTION_PREVIOUS_KEYS (1 key) does not list the key they were written with');
  });

  it('the old key left in TOKEN_ENCRYPTION_KEY: nothing re-encrypted, and one line says to put the new key there and this one in TOKEN_ENCRYPTION_PREVIOUS_KEYS', async () => {
    const oldKey = generateMasterKey();
    const url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, async (database) =>
      seedTokenRows(database, 5, () => ({ access: 'sealed', refresh: 'sealed' }), await loadTokenKeyring(oldKey)),
    );
    const result = await runOperatorCommand('tokens-rotate', [], { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: oldKey });
    expect(result.code).toBe(0);
    expect(result.output).toContain('  0 tokens re-encrypted under the current key');
    expect(result.output).toContain('  10 tokens already under the current key, skipped');
    const hint = linesMentioning(result.output, 'TOKEN_ENCRYPTION_PREVIOUS_KEYS');
    expect(hint).toHaveLength(1);
    expect(hint[0]).toContain('every token already opens with TOKEN_ENCRYPTION_KEY');
    expect(hint[0]).toContain('put the new key in TOKEN_ENCRYPTION_KEY and this one in TOKEN_ENCRYPTION_PREVIOUS_KEYS');
  });
});

describe('progress of gateway tokens encrypt and rotate', () => {
  it.each([
    ['migrate-encrypt-tokens', 'tokens encrypted'],
    ['tokens-rotate', 'tokens re-encrypted under the current key'],
  ])(
    '%s over 2000 rows in batches of 10, not on a TTY, prints at most a dozen lines and ends with the counts',
    async (command, wrote) => {
      const key = generateMasterKey();
      const url = await createDatabase({ migrated: true });
      await withDatabaseHandle(url, (database) =>
        seedTokenRows(database, 2_000, () => ({ access: 'plain', refresh: 'null' })),
      );
      const result = await runOperatorCommand(command, ['--batch-size', '10'], {
        DATABASE_URL: url,
        TOKEN_ENCRYPTION_KEY: key,
      });
      expect(result.code, result.output).toBe(0);
      const lines = result.output.trim().split('\n');
      expect(lines.length).toBeLessThanOrEqual(12);
      expect(result.output).not.toContain('\r');
      const counts = lines.findIndex((line) => line.startsWith('2000 users in 200 batches'));
      expect(counts).toBeGreaterThan(0);
      expect(lines.slice(counts + 1, counts + 5)).toEqual([
        `  2000 ${wrote}`,
        expect.stringMatching(/^ {2}0 tokens already .*, skipped$/),
        '  2000 null tokens, kept null',
        '  0 tokens failed',
      ]);
    },
  );

  it('--verbose prints one line per batch, as before', async () => {
    const url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, (database) =>
      seedTokenRows(database, 30, () => ({ access: 'plain', refresh: 'null' })),
    );
    const result = await runOperatorCommand('tokens-rotate', ['--batch-size', '10', '--verbose'], {
      DATABASE_URL: url,
      TOKEN_ENCRYPTION_KEY: generateMasterKey(),
    });
    expect(result.code).toBe(0);
    expect(result.output.match(/^batch \d+: 10 rows read, 10 rows written/gm)).toHaveLength(3);
  });
});
