import { GatewayError } from '../errors/gateway-error.ts';
import { fromHex, toHex, utf8 } from './encoding.ts';
import { previousSecrets } from './keyring.ts';

/**
 * GitHub tokens at rest: AES-256-GCM with a per-value key, WebCrypto only, so the Worker and the
 * Node scripts share this one module. Stored as `salt:iv:authTag:ciphertext`, each part lowercase
 * hex (docs/security.md has the byte layout):
 *
 *   salt        16 bytes  HKDF-SHA256 salt; the value's key is HKDF(masterKey, salt, INFO)
 *   iv          12 bytes  AES-GCM nonce
 *   authTag     16 bytes  AES-GCM tag
 *   ciphertext  n bytes   n = UTF-8 length of the token
 *
 * The additional authenticated data binds a value to its row and column (`field`, `userId`), so a
 * ciphertext copied into another user's row, or from access_token to refresh_token, fails to decrypt.
 */

export const SALT_BYTES = 16;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;
export const HKDF_INFO = 'edge-github-gateway/token-encryption/v1';

export type TokenField = 'access_token' | 'refresh_token';

/** Where a value lives; part of its authenticated data. */
export interface TokenContext {
  field: TokenField;
  userId: string;
}

export type TokenCipherErrorCode = 'malformed_token' | 'undecryptable_token' | 'invalid_key' | 'plaintext_refused';

/**
 * Never carries the token, the ciphertext or a key: only what went wrong. A stored token or a key
 * the gateway cannot use is its own (the operator's) problem.
 */
export class TokenCipherError extends GatewayError<TokenCipherErrorCode> {
  constructor(code: TokenCipherErrorCode, message: string) {
    super(code, 'internal', message);
  }
}

/** The master keys as HKDF base keys: the current one encrypts, every one decrypts. */
export interface TokenKeyring {
  current: CryptoKey;
  previous: CryptoKey[];
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const info = utf8(HKDF_INFO);
const FORMAT = new RegExp(
  `^([0-9a-f]{${SALT_BYTES * 2}}):([0-9a-f]{${IV_BYTES * 2}}):([0-9a-f]{${TAG_BYTES * 2}}):((?:[0-9a-f]{2})*)$`,
);

// Secrets do not change within an isolate: import each master key once.
const importedKeys = new Map<string, Promise<CryptoKey>>();

/**
 * Builds the keyring from the secrets: `current` is base64 of 32 random bytes; `previous` is a
 * comma-separated list of such keys that decryption still accepts during a rotation.
 */
export async function loadTokenKeyring(current: string, previous = ''): Promise<TokenKeyring> {
  return {
    current: await importMasterKey(current, 'the current key'),
    previous: await Promise.all(
      previousSecrets(previous).map((key, index) => importMasterKey(key, `previous key ${index + 1}`)),
    ),
  };
}

function importMasterKey(encoded: string, label: string): Promise<CryptoKey> {
  const cached = importedKeys.get(encoded);
  if (cached) return cached;
  const bytes = decodeMasterKey(encoded, label);
  const imported = crypto.subtle.importKey('raw', bytes, 'HKDF', false, ['deriveKey']);
  importedKeys.set(encoded, imported);
  return imported;
}

export function decodeMasterKey(encoded: string, label = 'the key'): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.from(atob(encoded.trim()), (char) => char.charCodeAt(0));
  } catch {
    throw new TokenCipherError(
      'invalid_key',
      `${label} is not base64. Generate one with \`npx gateway tokens generate-key\`.`,
    );
  }
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw new TokenCipherError(
      'invalid_key',
      `${label} must be ${MASTER_KEY_BYTES} bytes (base64), not ${bytes.length}. Generate one with \`npx gateway tokens generate-key\`.`,
    );
  }
  return bytes;
}

/** A new random master key, base64: what `npx gateway tokens generate-key` prints. */
export function generateMasterKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(MASTER_KEY_BYTES))));
}

export function encryptToken(plaintext: string, keyring: TokenKeyring, context: TokenContext): Promise<string> {
  return encryptValue(plaintext, keyring, additionalData(context));
}

/**
 * The stored format above for any secret the gateway keeps (a GitHub token, a service's events
 * secret): `aad` binds the value to where it lives, so a copy elsewhere fails to decrypt.
 */
export async function encryptValue(
  plaintext: string,
  keyring: TokenKeyring,
  aad: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await deriveValueKey(keyring.current, salt, 'encrypt');
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_BYTES * 8 },
      key,
      utf8(plaintext),
    ),
  );
  // WebCrypto appends the tag to the ciphertext; the stored format keeps it as its own part.
  const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  return [toHex(salt), toHex(iv), toHex(tag), toHex(ciphertext)].join(':');
}

export interface DecryptedToken {
  plaintext: string;
  /** 0 when the current key decrypted it, n for the nth previous key (so rotation knows what to redo). */
  keyIndex: number;
}

export function decryptToken(stored: string, keyring: TokenKeyring, context: TokenContext): Promise<DecryptedToken> {
  return decryptValue(stored, keyring, additionalData(context), `The ${context.field} of user ${context.userId}`);
}

/** Opens a value of `encryptValue`; `what` names it in the error when no key opens it. */
export async function decryptValue(
  stored: string,
  keyring: TokenKeyring,
  aad: Uint8Array<ArrayBuffer>,
  what: string,
): Promise<DecryptedToken> {
  const parts = parseEncryptedToken(stored);
  const sealed = new Uint8Array(parts.ciphertext.length + TAG_BYTES);
  sealed.set(parts.ciphertext);
  sealed.set(parts.authTag, parts.ciphertext.length);
  const keys = [keyring.current, ...keyring.previous];
  for (const [keyIndex, master] of keys.entries()) {
    const key = await deriveValueKey(master, parts.salt, 'decrypt');
    let opened: ArrayBuffer;
    try {
      opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: parts.iv, additionalData: aad, tagLength: TAG_BYTES * 8 },
        key,
        sealed,
      );
    } catch {
      continue; // not this key (or tampered): try the next
    }
    try {
      return { plaintext: decoder.decode(opened), keyIndex };
    } catch {
      throw new TokenCipherError('undecryptable_token', 'The decrypted token is not valid UTF-8.');
    }
  }
  throw new TokenCipherError(
    'undecryptable_token',
    `${what} does not decrypt with the current key or any of the ${keyring.previous.length} previous key(s): ` +
      'it was written under a key that is no longer configured, or it was altered.',
  );
}

/** True only for a value in the exact stored format (lengths and lowercase hex included). */
export function isEncryptedToken(value: string): boolean {
  return FORMAT.test(value);
}

export interface EncryptedTokenParts {
  salt: Uint8Array<ArrayBuffer>;
  iv: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
}

/** The strict parser: anything but four lowercase-hex parts of the documented lengths is an error. */
export function parseEncryptedToken(value: string): EncryptedTokenParts {
  const parts = value.split(':');
  if (parts.length !== 4) {
    throw new TokenCipherError(
      'malformed_token',
      `An encrypted token has 4 parts separated by ":", this one has ${parts.length}.`,
    );
  }
  const match = FORMAT.exec(value);
  if (!match) {
    throw new TokenCipherError(
      'malformed_token',
      `An encrypted token is salt:iv:authTag:ciphertext in lowercase hex of ${SALT_BYTES}, ${IV_BYTES}, ${TAG_BYTES} and any ` +
        'number of bytes; this one is not.',
    );
  }
  const [, salt = '', iv = '', authTag = '', ciphertext = ''] = match;
  return { salt: fromHex(salt), iv: fromHex(iv), authTag: fromHex(authTag), ciphertext: fromHex(ciphertext) };
}

function deriveValueKey(
  master: CryptoKey,
  salt: Uint8Array<ArrayBuffer>,
  usage: 'encrypt' | 'decrypt',
): Promise<CryptoKey> {
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info },
    master,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

/** `gateway-token-v1|<field>|<userId>`, UTF-8. */
export function additionalData(context: TokenContext): Uint8Array<ArrayBuffer> {
  return utf8(`gateway-token-v1|${context.field}|${context.userId}`);
}
