import bcrypt from 'bcryptjs';
import { constantTimeEqual, fromBase64Url, randomBytes, toBase64Url, utf8 } from './encoding.ts';

/**
 * Service API keys: `gwk_<keyId>_<secret>`.
 *   keyId   12 characters, base64url of 9 random bytes: the lookup part, stored in clear and
 *           indexed, so a verify is one indexed lookup and never a scan of hashes;
 *   secret  43 characters, base64url of 32 random bytes.
 * Stored as a self-describing PBKDF2-SHA256 hash: `pbkdf2-sha256$<iterations>$<salt>$<hash>`
 * (salt 16 bytes, hash 32 bytes, both base64url). Keys the old system issued are bcrypt hashes
 * (`$2a$`, `$2b$`, `$2y$`), verified in pure JavaScript and rehashed to PBKDF2 on first success.
 */

export const SERVICE_KEY_PREFIX = 'gwk_';
/** Production Workers refuse PBKDF2 above 100,000 iterations (local runtimes do not). */
export const MAX_PBKDF2_ITERATIONS = 100_000;
/**
 * For `gwk_` keys. They are 256-bit random secrets, so iterations add no real resistance to
 * guessing (that is what they are for with passwords); 1,000 is NIST SP 800-132's minimum, about
 * 0.2 ms of CPU, where 10,000 (before 2026-12) cost a cold verify a millisecond more
 * (docs/decisions.md). A hash with another count still verifies, and is rewritten with this one on
 * its first success.
 */
export const PBKDF2_ITERATIONS = 1_000;
/**
 * For keys the old system issued (no key id): their entropy is whatever the old system gave them,
 * so they keep the count they were rehashed from bcrypt with before 2026-12.
 */
export const OLD_SYSTEM_KEY_ITERATIONS = 10_000;
/**
 * Hashes no key is expected to match, one per kind of key, with the iterations that kind's real
 * hashes have: compared against when a lookup found no hash, so that the answer takes as long as a
 * wrong key's and its time does not tell which services still use an old-system key (those are
 * PBKDF2 too once used: the first success rehashes them). A `gwk_` key still hashed with
 * 10,000 iterations (issued before 2026-12 and not used since) takes longer to refuse than an
 * unknown key id until its first use rewrites it. Their salt and hash are fixed random bytes.
 */
const STAND_IN_KEY_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$OTTjTki6SMUFoRc4lqRGgQ$49ZCBJesNqyStE_GsveSbYTNZqc1uBXY8UCpodDAmGI`;
const OLD_SYSTEM_STAND_IN_KEY_HASH = `pbkdf2-sha256$${OLD_SYSTEM_KEY_ITERATIONS}$OTTjTki6SMUFoRc4lqRGgQ$49ZCBJesNqyStE_GsveSbYTNZqc1uBXY8UCpodDAmGI`;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const KEY_ID_BYTES = 9;
const SECRET_BYTES = 32;
const KEY_PATTERN = /^gwk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;
const PBKDF2_PATTERN = /^pbkdf2-sha256\$(\d{1,7})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;
const BCRYPT_PATTERN = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
/**
 * bcrypt's valid costs start at 4. Above 14 one verification in pure JavaScript would take
 * seconds of CPU (past a Worker's limit): such a hash is refused, like an over-long PBKDF2 one.
 */
const BCRYPT_COSTS = { min: 4, max: 14 };

export interface NewServiceKey {
  /** The full key: shown once to the operator, never stored. */
  key: string;
  keyId: string;
  hash: string;
}

export async function generateServiceKey(iterations = PBKDF2_ITERATIONS): Promise<NewServiceKey> {
  const keyId = toBase64Url(randomBytes(KEY_ID_BYTES));
  const key = `${SERVICE_KEY_PREFIX}${keyId}_${toBase64Url(randomBytes(SECRET_BYTES))}`;
  return { key, keyId, hash: await hashServiceKey(key, iterations) };
}

/** The lookup id of a key in the current format, or null for anything else. */
export function serviceKeyId(presented: string): string | null {
  return KEY_PATTERN.exec(presented)?.[1] ?? null;
}

export async function hashServiceKey(key: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be 1..${MAX_PBKDF2_ITERATIONS}`);
  }
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2(key, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** The PBKDF2 count a key of this kind is hashed with: a `gwk_` key's, or an old-system key's. */
export function iterationsFor(key: string): number {
  return serviceKeyId(key) ? PBKDF2_ITERATIONS : OLD_SYSTEM_KEY_ITERATIONS;
}

/** The stand-in hash a key of this kind is compared with when there is no hash to compare it with. */
export function standInHashFor(key: string): string {
  return serviceKeyId(key) ? STAND_IN_KEY_HASH : OLD_SYSTEM_STAND_IN_KEY_HASH;
}

/**
 * Whether a stored hash that `key` just matched should be written again with today's scheme: an
 * old-system bcrypt hash, or PBKDF2 with another iteration count than `iterationsFor(key)`.
 */
export function needsRehash(stored: string, key: string): boolean {
  const pbkdf2Match = PBKDF2_PATTERN.exec(stored);
  if (pbkdf2Match) return Number(pbkdf2Match[1]) !== iterationsFor(key);
  return BCRYPT_PATTERN.test(stored);
}

/**
 * Whether `presented` matches `stored`. A PBKDF2 hash with more iterations than production allows
 * is refused rather than computed; an unknown format never matches.
 */
export async function verifyServiceKey(presented: string, stored: string): Promise<boolean> {
  const pbkdf2Match = PBKDF2_PATTERN.exec(stored);
  if (pbkdf2Match) {
    const iterations = Number(pbkdf2Match[1]);
    const salt = fromBase64Url(pbkdf2Match[2] ?? '');
    const expected = fromBase64Url(pbkdf2Match[3] ?? '');
    if (!salt || !expected || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) return false;
    return constantTimeEqual(await pbkdf2(presented, salt, iterations), expected);
  }
  const bcryptMatch = BCRYPT_PATTERN.exec(stored);
  if (bcryptMatch) {
    const cost = Number(bcryptMatch[1]);
    if (cost < BCRYPT_COSTS.min || cost > BCRYPT_COSTS.max) return false;
    // bcrypt looks at 72 bytes at most; longer inputs are refused rather than silently truncated.
    if (utf8(presented).length > 72) return false;
    return bcrypt.compare(presented, stored);
  }
  return false;
}

async function pbkdf2(
  key: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const material = await crypto.subtle.importKey('raw', utf8(key), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, HASH_BYTES * 8),
  );
}
