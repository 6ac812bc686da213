import { describe, expect, it } from 'vitest';
import {
  decryptToken,
  generateMasterKey,
  isEncryptedToken,
  loadTokenKeyring,
  type TokenKeyring,
} from '../../../src/crypto/token-cipher.ts';
import { runScript } from '../../support/node/child.ts';
import { createDatabase, withDatabaseHandle } from '../../support/node/databases.ts';
import { readTokenRows, seedTokenRows, type TokenRow } from '../../support/node/token-rows.ts';

/**
 * Each command is killed with SIGKILL three times at random moments and run again, then run to
 * the end. A kill point is a random number of batches of new work the run has reported (with
 * `--verbose`, a line per batch; 0: none; counted from the line it prints before it connects, or
 * from the last batch an earlier round finished, which a re-run reads again and skips) plus a
 * random delay: the delay puts the kill anywhere in the loop (mid-read, mid-crypto, mid-write), and
 * counting batches keeps a fast machine from finishing before the kill. The points are drawn per command, logged and part of the test's
 * name; KILL_POINTS="7+13,0+4,15+22" (batches+ms per round) replays a draw.
 */
const ROWS = 3_000;
const BATCH_SIZE = 20;
const ROUNDS = 3;
const MAX_BATCHES_BEFORE_KILL = 20;
/** One to a few batches' worth of time (a batch takes about 10 ms here), so the kill lands at any phase. */
const MAX_DELAY_MS = 25;

interface KillPoint {
  batches: number;
  delayMs: number;
}

function killPoints(): KillPoint[] {
  const replay = process.env.KILL_POINTS?.split(',').map((point) => {
    const [batches, delayMs] = point.split('+').map(Number);
    return { batches: batches ?? Number.NaN, delayMs: delayMs ?? Number.NaN };
  });
  if (replay?.length === ROUNDS && replay.every((p) => Number.isInteger(p.batches) && Number.isInteger(p.delayMs)))
    return replay;
  return Array.from({ length: ROUNDS }, () => ({
    batches: Math.floor(Math.random() * (MAX_BATCHES_BEFORE_KILL + 1)),
    delayMs: Math.floor(Math.random() * MAX_DELAY_MS),
  }));
}

const describePoints = (points: KillPoint[]) => points.map((p) => `${p.batches}+${p.delayMs}`).join(',');

/** What a row's pair of tokens is: never re-encrypted plaintext, always both tokens alike. */
type RowState = 'plain' | 'current' | 'previous';
type Expected = Map<string, { access: string | null; refresh: string | null }>;

/**
 * Checks that nothing was lost or mangled: every seeded row is there, each token is its original
 * plaintext or decrypts (under the keyring's current or a previous key) to exactly the original,
 * not to another ciphertext, and both tokens of a row are in the same state (whole rows only).
 */
async function rowStates(rows: TokenRow[], expected: Expected, keyring: TokenKeyring): Promise<Map<string, RowState>> {
  expect(rows.map((row) => row.id).sort()).toEqual([...expected.keys()].sort());
  // Decrypted all at once (WebCrypto works off the main thread), then checked one by one.
  const opened = await Promise.all(
    rows.map((row) =>
      Promise.all(
        (['access_token', 'refresh_token'] as const).map(async (field) => {
          const stored = field === 'access_token' ? row.access_token : row.refresh_token;
          if (stored === null || !isEncryptedToken(stored)) return { plaintext: stored, state: 'plain' as const };
          const token = await decryptToken(stored, keyring, { field, userId: row.id });
          return { plaintext: token.plaintext, state: token.keyIndex === 0 ? 'current' : 'previous' } as const;
        }),
      ),
    ),
  );
  const states = new Map<string, RowState>();
  for (const [index, row] of rows.entries()) {
    const original = expected.get(row.id);
    const [access, refresh] = opened[index] ?? [];
    // The original token itself, not another ciphertext: encrypted exactly once.
    expect(access?.plaintext, `access_token of ${row.id}`).toBe(original?.access);
    expect(refresh?.plaintext, `refresh_token of ${row.id}`).toBe(original?.refresh);
    expect(access?.state, `both tokens of ${row.id} alike`).toBe(refresh?.state);
    states.set(row.id, access?.state ?? 'plain');
  }
  return states;
}

const count = (states: Map<string, RowState>, state: RowState) =>
  [...states.values()].filter((candidate) => candidate === state).length;

/** The settings the commands read come only from here, never from the test runner or a .dev.vars. */
function commandEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL, DIRECT_DATABASE_URL, TOKEN_ENCRYPTION_KEY, TOKEN_ENCRYPTION_PREVIOUS_KEYS, ...inherited } =
    process.env;
  return { ...inherited, DEV_VARS_FILE: '/nonexistent/.dev.vars', ...settings };
}

interface Scenario {
  command: 'migrate:encrypt-tokens' | 'tokens:rotate';
  args: string[];
  /** The first line the command prints, before it opens the database. */
  startLine: string;
  /** What the report calls a token written, and one left because it was already done. */
  wroteLabel: string;
  skippedLabel: string;
  /** A database seeded for the command, the settings it runs with, and the keys its rows decrypt under. */
  prepare(): Promise<{ url: string; expected: Expected; settings: Record<string, string>; keyring: TokenKeyring }>;
  /** The state of a row no run has reached yet. */
  untouched: RowState;
}

const scenarios: Scenario[] = [
  {
    command: 'migrate:encrypt-tokens',
    args: ['tokens', 'encrypt'],
    startLine: 'Encrypting GitHub tokens in',
    wroteLabel: 'tokens encrypted',
    skippedLabel: 'tokens already encrypted, skipped',
    untouched: 'plain',
    prepare: async () => {
      const key = generateMasterKey();
      const url = await createDatabase({ migrated: true });
      const expected = await withDatabaseHandle(url, (database) =>
        seedTokenRows(database, ROWS, () => ({ access: 'plain', refresh: 'plain' })),
      );
      return {
        url,
        expected,
        settings: { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: key },
        keyring: await loadTokenKeyring(key),
      };
    },
  },
  {
    command: 'tokens:rotate',
    args: ['tokens', 'rotate'],
    startLine: 'Rotating GitHub tokens in',
    wroteLabel: 'tokens re-encrypted under the current key',
    skippedLabel: 'tokens already under the current key, skipped',
    untouched: 'previous',
    prepare: async () => {
      const oldKey = generateMasterKey();
      const newKey = generateMasterKey();
      const url = await createDatabase({ migrated: true });
      const expected = await withDatabaseHandle(url, async (database) =>
        seedTokenRows(database, ROWS, () => ({ access: 'sealed', refresh: 'sealed' }), await loadTokenKeyring(oldKey)),
      );
      return {
        url,
        expected,
        settings: { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_PREVIOUS_KEYS: oldKey },
        keyring: await loadTokenKeyring(newKey, oldKey),
      };
    },
  },
];

describe('token commands killed with SIGKILL at random moments, then run again', () => {
  for (const scenario of scenarios) {
    const points = killPoints();
    it(`${scenario.command}: nothing lost, nothing encrypted twice (killed at ${describePoints(points)})`, async () => {
      console.log(
        `${scenario.command}: kill points (batches+ms) ${describePoints(points)}; KILL_POINTS=... replays them`,
      );
      const { url, expected, settings, keyring } = await scenario.prepare();
      const env = commandEnv(settings);
      const read = () => withDatabaseHandle(url, readTokenRows);

      // A finished row's stored values, as first seen: no later run may write them again.
      const finished = new Map<string, TokenRow>();
      const checkFinishedRowsKept = (rows: TokenRow[]) => {
        for (const row of rows) {
          const seen = finished.get(row.id);
          if (seen) expect(row, `row ${row.id} was written again after it was done`).toEqual(seen);
        }
      };
      let states = await rowStates(await read(), expected, keyring);
      expect(count(states, scenario.untouched)).toBe(ROWS);

      for (const [round, point] of points.entries()) {
        const run = runScript(
          'scripts/gateway.ts',
          [...scenario.args, '--batch-size', String(BATCH_SIZE), '--verbose'],
          env,
        );
        // Rows are done in id order, a whole batch at a time: the ones before this are skipped.
        const target = Math.floor(count(states, 'current') / BATCH_SIZE) + point.batches;
        await run.waitFor(target === 0 ? scenario.startLine : `batch ${target}:`);
        await new Promise((resolve) => setTimeout(resolve, point.delayMs));
        const killed = run.child.kill('SIGKILL');
        await run.exited;
        // Killed, not finished on its own: otherwise this round would test nothing.
        expect(killed && run.child.signalCode === 'SIGKILL', `round ${round + 1} was killed mid-run`).toBe(true);

        const rows = await read();
        checkFinishedRowsKept(rows);
        const before = count(states, 'current');
        states = await rowStates(rows, expected, keyring);
        for (const row of rows)
          if (states.get(row.id) === 'current' && !finished.has(row.id)) finished.set(row.id, row);
        // Only ever forward: a row once under the current key stays there (and byte for byte, above).
        expect(count(states, 'current')).toBeGreaterThanOrEqual(before);
        expect(count(states, 'current') + count(states, scenario.untouched)).toBe(ROWS);
        console.log(
          `${scenario.command} round ${round + 1}: killed ${point.delayMs} ms after ${target === 0 ? 'its first line' : `batch ${target}`}, ${count(states, 'current')} of ${ROWS} rows done`,
        );
      }
      const doneBefore = count(states, 'current');
      // The kills left work for the last run, so its counts below say something.
      expect(doneBefore).toBeLessThan(ROWS);

      const last = runScript('scripts/gateway.ts', [...scenario.args, '--batch-size', String(BATCH_SIZE * 10)], env);
      expect(await last.exited, last.output()).toBe(0);
      const output = last.output();
      expect(output).toContain(`${ROWS} users in`);
      expect(output).toContain(`  ${2 * (ROWS - doneBefore)} ${scenario.wroteLabel}`);
      expect(output).toContain(`  ${2 * doneBefore} ${scenario.skippedLabel}`);
      expect(output).toContain('  0 null tokens, kept null');
      expect(output).toContain('  0 tokens failed');
      expect(output).not.toContain('changed by another writer');

      const rows = await read();
      checkFinishedRowsKept(rows);
      states = await rowStates(rows, expected, keyring);
      expect(count(states, 'current')).toBe(ROWS);
    }, 60_000);
  }
});
