import { describe, expect, it } from 'vitest';
import {
  decryptToken,
  encryptToken,
  generateMasterKey,
  isEncryptedToken,
  loadTokenKeyring,
  parseEncryptedToken,
  TokenCipherError,
  type TokenContext,
} from '../../src/crypto/token-cipher.ts';
import { rejectionOf } from '../support/rejection.ts';

const context: TokenContext = { field: 'access_token', userId: '7d3f0c52-5d0e-4a52-9f7c-1c2b3a4d5e6f' };
const currentKey = generateMasterKey();
const previousKey = generateMasterKey();

const caught = (promise: Promise<unknown>) => rejectionOf(promise, TokenCipherError);

describe('token encryption round trip', () => {
  it.each([
    ['empty', ''],
    ['ASCII', 'gho_16C7e42F292c6912E7710c838347Ae178B4a'],
    ['multi-byte', 'токен ✓ 🔑 트큰'],
    ['8 KiB', 'x'.repeat(8 * 1024)],
  ])('%s', async (_label, plaintext) => {
    const keyring = await loadTokenKeyring(currentKey);
    const stored = await encryptToken(plaintext, keyring, context);
    expect(isEncryptedToken(stored)).toBe(true);
    const parts = parseEncryptedToken(stored);
    expect([parts.salt.length, parts.iv.length, parts.authTag.length]).toEqual([16, 12, 16]);
    expect(parts.ciphertext.length).toBe(new TextEncoder().encode(plaintext).length);
    expect(await decryptToken(stored, keyring, context)).toEqual({ plaintext, keyIndex: 0 });
  });

  it('never encrypts the same value the same way twice', async () => {
    const keyring = await loadTokenKeyring(currentKey);
    const values = await Promise.all(Array.from({ length: 20 }, () => encryptToken('gho_same', keyring, context)));
    expect(new Set(values).size).toBe(20);
    expect(new Set(values.map((value) => value.split(':')[0])).size).toBe(20);
    expect(new Set(values.map((value) => value.split(':')[1])).size).toBe(20);
  });
});

describe('tampering', () => {
  it('flipping any byte of any of the four parts fails, and the error holds no plaintext', async () => {
    const plaintext = 'gho_secretTokenValue1234567890';
    const keyring = await loadTokenKeyring(currentKey);
    const stored = await encryptToken(plaintext, keyring, context);
    const parts = stored.split(':');
    let flips = 0;
    for (const [partIndex, part] of parts.entries()) {
      for (let byte = 0; byte < part.length / 2; byte += 1) {
        const value = Number.parseInt(part.slice(byte * 2, byte * 2 + 2), 16) ^ 0x01;
        const flipped = `${part.slice(0, byte * 2)}${value.toString(16).padStart(2, '0')}${part.slice(byte * 2 + 2)}`;
        const tampered = parts.map((original, index) => (index === partIndex ? flipped : original)).join(':');
        const error = await caught(decryptToken(tampered, keyring, context));
        expect(error.code).toBe('undecryptable_token');
        expect(error.message).not.toContain(plaintext);
        expect(error.message).not.toContain(part);
        flips += 1;
      }
    }
    expect(flips).toBe(16 + 12 + 16 + plaintext.length);
  });

  it('a value moved to another user or another column does not decrypt', async () => {
    const keyring = await loadTokenKeyring(currentKey);
    const stored = await encryptToken('gho_x', keyring, context);
    expect((await caught(decryptToken(stored, keyring, { ...context, userId: 'someone-else' }))).code).toBe(
      'undecryptable_token',
    );
    expect((await caught(decryptToken(stored, keyring, { ...context, field: 'refresh_token' }))).code).toBe(
      'undecryptable_token',
    );
  });

  it.each([
    ['three parts', 'aa:bb:cc'],
    ['five parts', `${'0'.repeat(32)}:${'0'.repeat(24)}:${'0'.repeat(32)}:00:00`],
    ['uppercase hex', `${'A'.repeat(32)}:${'0'.repeat(24)}:${'0'.repeat(32)}:00`],
    ['short salt', `${'0'.repeat(30)}:${'0'.repeat(24)}:${'0'.repeat(32)}:00`],
    ['long iv', `${'0'.repeat(32)}:${'0'.repeat(26)}:${'0'.repeat(32)}:00`],
    ['odd ciphertext', `${'0'.repeat(32)}:${'0'.repeat(24)}:${'0'.repeat(32)}:abc`],
    ['not hex', `${'0'.repeat(32)}:${'0'.repeat(24)}:${'0'.repeat(32)}:zz`],
  ])('a malformed value (%s) is an error, never passed through', async (_label, value) => {
    const keyring = await loadTokenKeyring(currentKey);
    expect(isEncryptedToken(value)).toBe(false);
    expect((await caught(decryptToken(value, keyring, context))).code).toBe('malformed_token');
  });
});

describe('keys', () => {
  it('a value written under a previous key decrypts, and says which key it needed', async () => {
    const old = await loadTokenKeyring(previousKey);
    const stored = await encryptToken('gho_old', old, context);
    const rotated = await loadTokenKeyring(currentKey, `${generateMasterKey()}, ${previousKey}`);
    expect(await decryptToken(stored, rotated, context)).toEqual({ plaintext: 'gho_old', keyIndex: 2 });
  });

  it('a value under a key that is not configured fails clearly', async () => {
    const stored = await encryptToken('gho_lost', await loadTokenKeyring(generateMasterKey()), context);
    const error = await caught(decryptToken(stored, await loadTokenKeyring(currentKey, previousKey), context));
    expect(error.code).toBe('undecryptable_token');
    expect(error.message).toContain('does not decrypt with the current key or any of the 1 previous key(s)');
  });

  it.each([
    ['not base64', 'not a key!'],
    ['too short', btoa('x'.repeat(16))],
    ['too long', btoa('x'.repeat(48))],
  ])('a master key that is %s is refused, naming the command that makes one', async (_label, key) => {
    const error = await caught(loadTokenKeyring(key));
    expect(error.code).toBe('invalid_key');
    expect(error.message).toContain('npx gateway tokens generate-key');
    expect(error.message).not.toContain(key);
  });
});
