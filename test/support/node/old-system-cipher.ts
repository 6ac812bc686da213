import { createCipheriv, createHash, hkdfSync, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';

/**
 * Old Node systems writing `salt:iv:authTag:ciphertext` with AES-256-GCM, written again from
 * issue 15's text the way such a system's `encrypt()` reads, with node:crypto only and nothing of
 * the gateway's: the legacy-token tests build their values here, so a shared mistake in the
 * gateway's catalogue cannot make both sides agree.
 */
export interface OldSystemCipher {
  /** What the gateway's detection should name it (its printable scheme id). */
  expectedScheme: string;
  encrypt(plaintext: string, secret: string): string;
}

function gcmSeal(key: Buffer, iv: Buffer, plaintext: string): { tag: Buffer; ciphertext: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { tag: cipher.getAuthTag(), ciphertext };
}

const derivedAtStartUp = new Map<string, { salt: Buffer; key: Buffer }>();

export const OLD_SYSTEM_CIPHERS = {
  /** The most common: a 64-byte salt, pbkdf2Sync(secret, salt, 100000, 32, 'sha512'), a 16-byte IV, hex. */
  pbkdf2Sha512: {
    expectedScheme: 'pbkdf2-sha512-100000/utf8-key/salt-bytes/hex/iv16/salt64',
    encrypt(plaintext, secret) {
      const salt = randomBytes(64);
      const iv = randomBytes(16);
      const key = pbkdf2Sync(secret, salt, 100000, 32, 'sha512');
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return `${salt.toString('hex')}:${iv.toString('hex')}:${tag.toString('hex')}:${ciphertext.toString('hex')}`;
    },
  },
  /** PBKDF2-SHA256 at 100,000 with a 16-byte salt and the 12-byte IV GCM recommends. */
  pbkdf2Sha256Iv12: {
    expectedScheme: 'pbkdf2-sha256-100000/utf8-key/salt-bytes/hex/iv12/salt16',
    encrypt(plaintext, secret) {
      const salt = randomBytes(16);
      const iv = randomBytes(12);
      const key = pbkdf2Sync(secret, salt, 100000, 32, 'sha256');
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv, tag, ciphertext].map((part) => part.toString('hex')).join(':');
    },
  },
  /** scryptSync with Node's defaults, every part in base64. */
  scryptBase64: {
    expectedScheme: 'scrypt-16384-8-1/utf8-key/salt-bytes/base64/iv16/salt32',
    encrypt(plaintext, secret) {
      const salt = randomBytes(32);
      const iv = randomBytes(16);
      const key = scryptSync(secret, salt, 32);
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv, tag, ciphertext].map((part) => part.toString('base64')).join(':');
    },
  },
  /** The secret is 64 hex digits used as the key itself; the salt is written but never used. */
  rawHexKey: {
    expectedScheme: 'raw/hex-key/salt-unused/hex/iv16/salt16',
    encrypt(plaintext, secret) {
      const key = Buffer.from(secret, 'hex');
      const salt = randomBytes(16);
      const iv = randomBytes(16);
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv, tag, ciphertext].map((part) => part.toString('hex')).join(':');
    },
  },
  /** The salt's hex string itself is the PBKDF2 salt (as PeerTube does), at OWASP's 310,000. */
  saltAsString: {
    expectedScheme: 'pbkdf2-sha256-310000/utf8-key/salt-string/hex/iv16/salt32',
    encrypt(plaintext, secret) {
      const salt = randomBytes(32).toString('hex');
      const iv = randomBytes(16);
      const key = pbkdf2Sync(secret, salt, 310000, 32, 'sha256');
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return `${salt}:${iv.toString('hex')}:${tag.toString('hex')}:${ciphertext.toString('hex')}`;
    },
  },
  /** HKDF-SHA256 with an empty info, base64url parts, a 12-byte IV. */
  hkdfBase64url: {
    expectedScheme: 'hkdf-sha256/utf8-key/salt-bytes/base64url/iv12/salt16',
    encrypt(plaintext, secret) {
      const salt = randomBytes(16);
      const iv = randomBytes(12);
      const key = Buffer.from(hkdfSync('sha256', secret, salt, '', 32));
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv, tag, ciphertext].map((part) => part.toString('base64url')).join(':');
    },
  },
  /**
   * A system that derived its key once at start-up: one salt for every value it wrote (PBKDF2-SHA256
   * at 100,000, a 16-byte IV).
   */
  keyDerivedOnce: {
    expectedScheme: 'pbkdf2-sha256-100000/utf8-key/salt-bytes/hex/iv16/salt16',
    encrypt(plaintext, secret) {
      let derived = derivedAtStartUp.get(secret);
      if (!derived) {
        const salt = randomBytes(16);
        derived = { salt, key: pbkdf2Sync(secret, salt, 100000, 32, 'sha256') };
        derivedAtStartUp.set(secret, derived);
      }
      const iv = randomBytes(16);
      const { tag, ciphertext } = gcmSeal(derived.key, iv, plaintext);
      return [derived.salt, iv, tag, ciphertext].map((part) => part.toString('hex')).join(':');
    },
  },
  /** SHA-256 of the secret as the key. */
  sha256Key: {
    expectedScheme: 'sha256/utf8-key/salt-unused/hex/iv16/salt16',
    encrypt(plaintext, secret) {
      const key = createHash('sha256').update(secret).digest();
      const salt = randomBytes(16);
      const iv = randomBytes(16);
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv, tag, ciphertext].map((part) => part.toString('hex')).join(':');
    },
  },
  /**
   * The last scheme detection tries: scrypt at N=65536 over a base64 secret's bytes, the salt's
   * base64url text as its salt (the worst case for the time detection takes).
   */
  lastTried: {
    expectedScheme: 'scrypt-65536-8-1/base64-key/salt-string/base64url/iv12/salt64',
    encrypt(plaintext, secret) {
      const salt = randomBytes(64).toString('base64url');
      const iv = randomBytes(12);
      const key = scryptSync(Buffer.from(secret, 'base64'), salt, 32, {
        N: 65536,
        r: 8,
        p: 1,
        maxmem: 256 * 1024 * 1024,
      });
      const { tag, ciphertext } = gcmSeal(key, iv, plaintext);
      return [salt, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
    },
  },
} satisfies Record<string, OldSystemCipher>;

/** A GitHub token as the old system held them (`gho_` and 36 letters and digits). */
export function githubLikeToken(): string {
  return `gho_${randomBytes(27).toString('base64').replace(/[+/=]/g, 'x').slice(0, 36)}`;
}

/** The kind of secret an old deployment's .env held: 32 random bytes in hex (also valid base64). */
export function oldSystemSecret(): string {
  return randomBytes(32).toString('hex');
}
