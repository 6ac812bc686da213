import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  detectLegacyScheme,
  LEGACY_SCHEMES,
  legacySchemeById,
  openLegacyValue,
} from '../../../scripts/lib/legacy-tokens/index.ts';
import {
  githubLikeToken,
  OLD_SYSTEM_CIPHERS,
  type OldSystemCipher,
  oldSystemSecret,
} from '../../support/node/old-system-cipher.ts';

/** Detection tries seconds of derivations per value no scheme opens; the machine is shared. */
const SLOW = 180_000;

function oldValues(cipher: OldSystemCipher, secret: string, count: number): { tokens: string[]; values: string[] } {
  const tokens = Array.from({ length: count }, () => githubLikeToken());
  return { tokens, values: tokens.map((token) => cipher.encrypt(token, secret)) };
}

function scheme(id: string) {
  const found = legacySchemeById(id);
  if (!found) throw new Error(`no scheme ${id} in the catalogue`);
  return found;
}

describe('the catalogue of old-system schemes', () => {
  it('names every scheme once, finds each by its printed id, and tries the costly derivations last', () => {
    const ids = LEGACY_SCHEMES.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const entry of LEGACY_SCHEMES) expect(legacySchemeById(entry.id)).toBe(entry);
    expect(legacySchemeById('pbkdf2-sha256-99/utf8-key/salt-bytes/hex/iv16/salt16')).toBeUndefined();
    expect(ids[0]).toBe('pbkdf2-sha256-100000/utf8-key/salt-bytes/hex/iv16/salt16');
    const position = (prefix: string) => ids.findIndex((id) => id.startsWith(prefix));
    const lastCheap = Math.max(
      ...['pbkdf2-sha256-310000/', 'pbkdf2-sha512-310000/', 'scrypt-32768-8-1/'].map((prefix) =>
        ids.findLastIndex((id) => id.startsWith(prefix)),
      ),
    );
    expect(position('pbkdf2-sha256-600000/')).toBeGreaterThan(lastCheap);
    expect(position('scrypt-65536-8-1/')).toBeGreaterThan(
      ids.findLastIndex((id) => id.startsWith('pbkdf2-sha512-600000/')),
    );
    expect(ids.at(-1)).toBe(OLD_SYSTEM_CIPHERS.lastTried.expectedScheme);
  });
});

describe('detecting the scheme an old system wrote with', () => {
  for (const [name, cipher] of Object.entries(OLD_SYSTEM_CIPHERS)) {
    it(
      `detects ${cipher.expectedScheme} (${name}) from a sample, and every value opens to the original`,
      async () => {
        const secret = oldSystemSecret();
        const { tokens, values } = oldValues(cipher, secret, 12);
        const detection = await detectLegacyScheme(values, secret);
        expect(detection.scheme?.id).toBe(cipher.expectedScheme);
        expect([detection.sampled, detection.opened, detection.unopened]).toEqual([12, 12, []]);
        const opened = await Promise.all(
          values.map((value) => openLegacyValue(value, scheme(cipher.expectedScheme), secret)),
        );
        expect(opened).toEqual(tokens.map((plaintext) => ({ ok: true, plaintext })));
      },
      SLOW,
    );
  }

  it(
    'finds no scheme with a wrong legacy key (every scheme refuses the value it sweeps), and lists every value as not opened',
    async () => {
      const { values } = oldValues(OLD_SYSTEM_CIPHERS.pbkdf2Sha256Iv12, oldSystemSecret(), 5);
      // One sweep (every scheme on one value) proves the point; the default gives up after 3.
      const detection = await detectLegacyScheme(values, oldSystemSecret(), { maxFruitlessSweeps: 1 });
      expect(detection.scheme).toBeNull();
      expect(detection.opened).toBe(0);
      expect(detection.unopened).toEqual(values.map((_, position) => ({ position, reason: 'not-opened' })));
    },
    SLOW,
  );

  it(
    'in a sample of mostly one scheme and a few garbage values, reports that scheme, how many it opens, and the others by position',
    async () => {
      const secret = oldSystemSecret();
      const cipher = OLD_SYSTEM_CIPHERS.pbkdf2Sha256Iv12;
      const { values } = oldValues(cipher, secret, 20);
      const sameShapeNoKey = [randomBytes(16), randomBytes(12), randomBytes(16), randomBytes(30)]
        .map((part) => part.toString('hex'))
        .join(':');
      const otherKey = cipher.encrypt(githubLikeToken(), oldSystemSecret());
      // A garbage value first: detection sweeps it in vain, then finds the scheme on the next one.
      const sample = [
        sameShapeNoKey,
        ...values.slice(0, 10),
        'gho_plaintextFromBeforeV12',
        ...values.slice(10),
        otherKey,
        'a:b:c:d',
      ];
      const detection = await detectLegacyScheme(sample, secret);
      expect(detection.scheme?.id).toBe(cipher.expectedScheme);
      expect([detection.sampled, detection.opened]).toEqual([24, 20]);
      expect(detection.unopened).toEqual([
        { position: 0, reason: 'not-opened' },
        { position: 11, reason: 'shape' },
        { position: 22, reason: 'not-opened' },
        { position: 23, reason: 'shape' },
      ]);
      expect(detection.otherSchemes).toEqual([]);
    },
    SLOW,
  );

  it('reports a value that fits no scheme by its position only, without deriving a key', async () => {
    const secret = oldSystemSecret();
    const misfits = [
      'gho_plaintextFromBeforeV12',
      `${randomBytes(20).toString('hex')}:${randomBytes(16).toString('hex')}:${randomBytes(16).toString('hex')}:abcd`,
      `${randomBytes(16).toString('hex')}:${randomBytes(16).toString('base64')}:${randomBytes(16).toString('hex')}:abcd`,
    ];
    const detection = await detectLegacyScheme(misfits, secret);
    expect(detection.scheme).toBeNull();
    expect(detection.derivations).toBe(0);
    expect(detection.unopened).toEqual(misfits.map((_, position) => ({ position, reason: 'shape' })));
    const printed = JSON.stringify(detection);
    for (const misfit of misfits) {
      for (const part of misfit.split(':')) expect(printed).not.toContain(part);
    }
  });

  it(
    'derives a key once per scheme and salt, so values sharing a salt share a derivation',
    async () => {
      const secret = oldSystemSecret();
      const cipher = OLD_SYSTEM_CIPHERS.keyDerivedOnce;
      const { values } = oldValues(cipher, secret, 10);
      expect(new Set(values.map((value) => value.split(':')[0])).size).toBe(1);
      const detection = await detectLegacyScheme(values, secret);
      expect(detection.scheme?.id).toBe(cipher.expectedScheme);
      expect(detection.opened).toBe(10);
      // One sweep of the first value: each derivation once, then every other value reuses them.
      const oneSweep = await detectLegacyScheme(values.slice(0, 1), secret);
      expect(detection.derivations).toBe(oneSweep.derivations);
    },
    SLOW,
  );
});

describe('opening one old-system value', () => {
  it('says why a value does not open, without the value or the key in the message', async () => {
    const secret = oldSystemSecret();
    const cipher = OLD_SYSTEM_CIPHERS.pbkdf2Sha256Iv12;
    const known = scheme(cipher.expectedScheme);
    const value = cipher.encrypt(githubLikeToken(), secret);
    const other = oldSystemSecret();
    const cases = [
      { value: 'gho_plaintextFromBeforeV12', key: secret, code: 'legacy_value_shape' },
      { value: OLD_SYSTEM_CIPHERS.pbkdf2Sha512.encrypt('gho_x', secret), key: secret, code: 'legacy_value_shape' },
      { value, key: other, code: 'legacy_value_unopened' },
    ];
    for (const { value: stored, key, code } of cases) {
      const result = await openLegacyValue(stored, known, key);
      expect(result.ok ? 'opened' : result.error.code).toBe(code);
      if (result.ok) continue;
      expect(result.error.kind).toBe('input');
      for (const secretPart of [...stored.split(':'), key]) expect(result.error.message).not.toContain(secretPart);
    }
    const rawWithUtf8Key = await openLegacyValue(value, scheme('raw/utf8-key/salt-unused/hex/iv12/salt16'), secret);
    expect(rawWithUtf8Key.ok ? 'opened' : rawWithUtf8Key.error.code).toBe('legacy_key_unusable');
  });
});

describe('an old key read as base64', () => {
  it.each([
    ['base64url without padding', (key: Buffer) => key.toString('base64url')],
    ['standard base64 without padding', (key: Buffer) => key.toString('base64').replace(/=+$/, '')],
    ['standard base64 with padding', (key: Buffer) => key.toString('base64')],
  ])('is read as Node reads it: %s', async (_label, encode) => {
    // What an old system did with Buffer.from(process.env.KEY, 'base64') as its AES key, written
    // here with node:crypto alone.
    const key = randomBytes(32);
    const salt = randomBytes(16);
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ciphertext = Buffer.concat([cipher.update('gho_old', 'utf8'), cipher.final()]);
    const value = [salt, iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('hex')).join(':');
    const opened = await openLegacyValue(value, scheme('raw/base64-key/salt-unused/hex/iv16/salt16'), encode(key));
    expect(opened.ok ? opened.plaintext : opened.error.code).toBe('gho_old');
  });
});
