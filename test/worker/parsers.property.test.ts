import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/crypto/encoding.ts';
import { open, seal } from '../../src/crypto/sealed-box.ts';
import { generateServiceKey, serviceKeyId, verifyServiceKey } from '../../src/crypto/service-keys.ts';
import { loadSessionKeys, type SessionKeys } from '../../src/crypto/session-keys.ts';
import { signSessionToken, verifySessionToken } from '../../src/crypto/session-tokens.ts';
import {
  decodeMasterKey,
  decryptToken,
  encryptToken,
  generateMasterKey,
  isEncryptedToken,
  loadTokenKeyring,
  parseEncryptedToken,
  TokenCipherError,
  type TokenKeyring,
} from '../../src/crypto/token-cipher.ts';
import { openAttempt, sealAttempt } from '../../src/sign-in/attempt.ts';

// The parsers of everything that arrives from outside (keys, session tokens, sealed cookies,
// stored ciphertexts): on any input they answer "no" in their documented way, never throw
// something else, and a single changed character of a genuine value is always refused.

let keyring: TokenKeyring;
let sessionKeys: SessionKeys;
beforeAll(async () => {
  keyring = await loadTokenKeyring(generateMasterKey());
  sessionKeys = await loadSessionKeys(generateMasterKey());
});

/** A genuine value with one character replaced by a different one. */
const tampered = (genuine: string) =>
  fc
    .tuple(fc.nat({ max: genuine.length - 1 }), fc.constantFrom(...'0123456789abcdefABCDEF-_.:$'))
    .filter(([index, replacement]) => genuine[index] !== replacement)
    .map(([index, replacement]) => genuine.slice(0, index) + replacement + genuine.slice(index + 1));

const junk = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[0-9a-f:]{0,200}$/));

describe('service keys', () => {
  it('serviceKeyId never throws and only finds an id in the gwk_ format', () => {
    fc.assert(
      fc.property(junk, (presented) => {
        const id = serviceKeyId(presented);
        if (id !== null) expect(presented.startsWith(`gwk_${id}_`)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('a stored hash of any shape never matches a random key, and never throws', async () => {
    const storedShapes = fc.oneof(
      junk,
      fc
        .tuple(fc.integer({ min: 0, max: 9_999_999 }), fc.stringMatching(/^[A-Za-z0-9_-]{22}$/))
        .map(([iterations, salt]) => `pbkdf2-sha256$${iterations}$${salt}$${'A'.repeat(43)}`),
      fc.stringMatching(/^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$/),
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), storedShapes, async (presented, stored) => {
        expect(await verifyServiceKey(presented, stored)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('a key with one character changed does not verify against the genuine hash', async () => {
    const genuine = await generateServiceKey(1_000);
    expect(await verifyServiceKey(genuine.key, genuine.hash)).toBe(true);
    await fc.assert(
      fc.asyncProperty(tampered(genuine.key), async (changed) => {
        expect(await verifyServiceKey(changed, genuine.hash)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('base64url', () => {
  it('decodes only the canonical encoding: unused low bits in the last character must be zero', () => {
    expect(fromBase64Url('AA')).toEqual(new Uint8Array([0]));
    expect(fromBase64Url('AB')).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
      }),
    );
  });
});

describe('session tokens', () => {
  it('any string is refused with one of the three codes, never thrown', async () => {
    await fc.assert(
      fc.asyncProperty(junk, async (token) => {
        const check = await verifySessionToken(token, sessionKeys.tokenSigning);
        expect(check.ok).toBe(false);
        if (!check.ok) expect(['malformed_session', 'invalid_session', 'expired_session']).toContain(check.code);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a genuine token with one character changed is refused', async () => {
    const genuine = await signSessionToken(
      { sessionId: crypto.randomUUID(), expiresAt: new Date(Date.now() + 3_600_000) },
      sessionKeys.tokenSigning,
    );
    expect((await verifySessionToken(genuine, sessionKeys.tokenSigning)).ok).toBe(true);
    await fc.assert(
      fc.asyncProperty(tampered(genuine), async (changed) => {
        expect((await verifySessionToken(changed, sessionKeys.tokenSigning)).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('sealed cookies', () => {
  it('opening anything that was not sealed here gives null', async () => {
    const boxes = fc.oneof(junk, fc.uint8Array({ minLength: 0, maxLength: 200 }).map(toBase64Url));
    await fc.assert(
      fc.asyncProperty(boxes, async (box) => {
        expect(await open(box, sessionKeys.cookieSealing, 'sign-in-attempt')).toBeNull();
        expect(await openAttempt(box, sessionKeys.cookieSealing)).toBeNull();
      }),
      { numRuns: 1_000 },
    );
  });

  it('a sealed value with one character changed, or opened for another purpose, gives null', async () => {
    const genuine = await seal({ any: 'value' }, sessionKeys.cookieSealing, 'purpose-a');
    expect(await open(genuine, sessionKeys.cookieSealing, 'purpose-a')).toEqual({ any: 'value' });
    expect(await open(genuine, sessionKeys.cookieSealing, 'purpose-b')).toBeNull();
    await fc.assert(
      fc.asyncProperty(tampered(genuine), async (changed) => {
        expect(await open(changed, sessionKeys.cookieSealing, 'purpose-a')).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('a genuine sign-in attempt opens, and stops opening once it is older than its lifetime', async () => {
    const attempt = await sealAttempt(
      {
        state: 'state-value',
        verifier: 'verifier-value-that-is-long-enough-for-pkce-0123456789',
        githubRedirectUri: 'https://gateway.test/auth/github/callback',
        serviceId: null,
        redirectUri: null,
        serviceState: null,
        codeChallenge: null,
        retryPath: '/login',
        issuedAt: Date.now(),
      },
      sessionKeys.cookieSealing,
    );
    expect(await openAttempt(attempt, sessionKeys.cookieSealing)).not.toBeNull();
    expect(await openAttempt(attempt, sessionKeys.cookieSealing, Date.now() + 11 * 60 * 1000)).toBeNull();
  });
});

describe('stored token ciphertexts', () => {
  const context = { field: 'access_token' as const, userId: '6f1c0d3e-0000-4000-8000-000000000001' };

  it('anything not in the exact format is refused as malformed by the strict parser', () => {
    fc.assert(
      fc.property(junk, (value) => {
        if (isEncryptedToken(value)) return;
        expect(() => parseEncryptedToken(value)).toThrow(TokenCipherError);
      }),
      { numRuns: 2_000 },
    );
  });

  it('decrypting junk or a tampered ciphertext only ever fails with a TokenCipherError', async () => {
    const genuine = await encryptToken('gho_genuine_token_value', keyring, context);
    expect((await decryptToken(genuine, keyring, context)).plaintext).toBe('gho_genuine_token_value');
    await fc.assert(
      fc.asyncProperty(fc.oneof(junk, tampered(genuine)), async (value) => {
        const error = await decryptToken(value, keyring, context).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(TokenCipherError);
      }),
      { numRuns: 500 },
    );
  });

  it('a master key that is not 32 bytes of base64 is refused with a message, not a crash', () => {
    fc.assert(
      fc.property(junk, (encoded) => {
        let bytes: Uint8Array | null = null;
        try {
          bytes = decodeMasterKey(encoded);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message.length).toBeGreaterThan(10);
          return;
        }
        expect(bytes.length).toBe(32);
      }),
      { numRuns: 1_000 },
    );
  });
});
