import { createHash, hkdf, pbkdf2, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { derivationId, LEGACY_KEY_LENGTH, type LegacyKeyEncoding, type LegacyScheme } from './schemes.ts';
import type { LegacyValueParts } from './value-parts.ts';

const pbkdf2Async = promisify(pbkdf2);
const hkdfAsync = promisify(hkdf);
const scryptAsync = promisify(scrypt) as (
  password: Buffer,
  salt: Buffer,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** scrypt N=65536, r=8 needs 64 MiB; Node's default ceiling is 32 MiB. */
const SCRYPT_MAX_MEMORY = 256 * 1024 * 1024;

/**
 * The old key's bytes under one encoding, or undefined when the key is not of that encoding (a
 * key that is not hex is never read as hex). UTF-8 always applies.
 */
export function legacyKeyBytes(legacyKey: string, encoding: LegacyKeyEncoding): Buffer | undefined {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(legacyKey, 'utf8');
    case 'hex':
      return /^(?:[0-9a-fA-F]{2})+$/.test(legacyKey) ? Buffer.from(legacyKey, 'hex') : undefined;
    case 'base64': {
      // As Node's Buffer.from(key, 'base64') reads it: padded or not, standard or URL alphabet
      // (an old system may have made its key with toString('base64url')); the bytes must encode
      // back to the same characters, so a key that is not base64 is never read as such.
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(legacyKey)) return undefined;
      const bytes = Buffer.from(legacyKey, 'base64');
      const canonical = (text: string) => text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
      return bytes.length > 0 && canonical(bytes.toString('base64')) === canonical(legacyKey) ? bytes : undefined;
    }
  }
}

/** What the derivation takes as its salt: the decoded bytes, the stored characters, or nothing. */
function saltInput(scheme: LegacyScheme, parts: LegacyValueParts): Buffer {
  switch (scheme.saltUse) {
    case 'bytes':
      return parts.salt;
    case 'string':
      return Buffer.from(parts.saltText, 'utf8');
    case 'unused':
      return Buffer.alloc(0);
  }
}

/** The AES key a scheme derives for one value, or undefined when the scheme cannot apply to this key. */
async function deriveKey(scheme: LegacyScheme, key: Buffer, salt: Buffer): Promise<Buffer | undefined> {
  const derivation = scheme.derivation;
  switch (derivation.kind) {
    case 'pbkdf2':
      return pbkdf2Async(key, salt, derivation.iterations, LEGACY_KEY_LENGTH, derivation.hash);
    case 'scrypt':
      return scryptAsync(key, salt, LEGACY_KEY_LENGTH, { N: derivation.cost, r: 8, p: 1, maxmem: SCRYPT_MAX_MEMORY });
    case 'raw':
      return key.length === LEGACY_KEY_LENGTH ? key : undefined;
    case 'sha256':
      return createHash('sha256').update(key).digest();
    case 'hkdf-sha256':
      return Buffer.from(await hkdfAsync('sha256', key, salt, Buffer.alloc(0), LEGACY_KEY_LENGTH));
  }
}

/**
 * Derived keys, kept per (derivation, key encoding, salt as used): detection tries many schemes on
 * the same value, and schemes that differ only in how the parts are written share a derivation.
 * A pending derivation is shared too, so two tries running at once derive once.
 */
export class LegacyKeyCache {
  private readonly keys = new Map<string, Promise<Buffer | undefined>>();
  private readonly legacyKey: string;
  derivations = 0;

  constructor(legacyKey: string) {
    this.legacyKey = legacyKey;
  }

  keyFor(scheme: LegacyScheme, parts: LegacyValueParts): Promise<Buffer | undefined> {
    const salt = saltInput(scheme, parts);
    const cacheKey = `${derivationId(scheme.derivation)}|${scheme.keyEncoding}|${salt.toString('hex')}`;
    let pending = this.keys.get(cacheKey);
    if (!pending) {
      const key = legacyKeyBytes(this.legacyKey, scheme.keyEncoding);
      if (key) this.derivations += 1;
      pending = key ? deriveKey(scheme, key, salt) : Promise.resolve(undefined);
      this.keys.set(cacheKey, pending);
    }
    return pending;
  }
}

/** The key for one value, derived afresh (opening values one by one, as a migration does). */
export function deriveLegacyKey(
  scheme: LegacyScheme,
  legacyKey: string,
  parts: LegacyValueParts,
): Promise<Buffer | undefined> {
  const key = legacyKeyBytes(legacyKey, scheme.keyEncoding);
  return key ? deriveKey(scheme, key, saltInput(scheme, parts)) : Promise.resolve(undefined);
}
