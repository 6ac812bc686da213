import { fromBase64Url, randomBytes, toBase64Url, utf8 } from './encoding.ts';

/**
 * A JSON value sealed with AES-256-GCM into one base64url string (`iv || ciphertext || tag`):
 * confidential and tamper-evident, for values that travel through the browser (the sign-in cookie).
 * `purpose` is authenticated too, so a box made for one use cannot be replayed as another.
 */
const IV_BYTES = 12;

export async function seal(value: unknown, key: CryptoKey, purpose: string): Promise<string> {
  const iv = randomBytes(IV_BYTES);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: utf8(purpose) },
      key,
      utf8(JSON.stringify(value)),
    ),
  );
  const box = new Uint8Array(IV_BYTES + sealed.length);
  box.set(iv);
  box.set(sealed, IV_BYTES);
  return toBase64Url(box);
}

/** The sealed value, or null when the box is malformed, altered, or sealed for another purpose. */
export async function open(box: string, key: CryptoKey, purpose: string): Promise<unknown> {
  const bytes = fromBase64Url(box);
  if (!bytes || bytes.length < IV_BYTES + 16) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: bytes.subarray(0, IV_BYTES), additionalData: utf8(purpose) },
      key,
      bytes.subarray(IV_BYTES),
    );
    return JSON.parse(new TextDecoder().decode(plain));
  } catch {
    return null;
  }
}
