import { utf8 } from './encoding.ts';
import { decryptValue, encryptValue, type TokenKeyring } from './token-cipher.ts';

/**
 * A service's events signing secret, as the Standard Webhooks specification spells one: `whsec_`
 * and the base64 (standard alphabet, padded) of the key's bytes. The gateway makes 32 random bytes
 * (the specification asks for 24 to 64), and keeps the secret encrypted with TOKEN_ENCRYPTION_KEY
 * in the stored format of GitHub tokens, bound to the service's row (docs/security.md).
 */
export const EVENTS_SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export function generateEventsSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return EVENTS_SECRET_PREFIX + btoa(String.fromCharCode(...bytes));
}

/** The HMAC key's bytes: the base64 after `whsec_`. Null for anything that is not such a secret. */
export function eventsSecretKeyBytes(secret: string): Uint8Array<ArrayBuffer> | null {
  if (!secret.startsWith(EVENTS_SECRET_PREFIX)) return null;
  const encoded = secret.slice(EVENTS_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  try {
    const bytes = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
    return bytes.length > 0 ? bytes : null;
  } catch {
    return null;
  }
}

/** `gateway-events-secret-v1|<service row id>`, UTF-8: a secret copied to another service's row fails to open. */
function eventsSecretAad(serviceRowId: string): Uint8Array<ArrayBuffer> {
  return utf8(`gateway-events-secret-v1|${serviceRowId}`);
}

export function sealEventsSecret(secret: string, keyring: TokenKeyring, serviceRowId: string): Promise<string> {
  return encryptValue(secret, keyring, eventsSecretAad(serviceRowId));
}

/** The plaintext secret, and which key opened it (0: the current one; n: the nth previous). */
export function openEventsSecret(
  stored: string,
  keyring: TokenKeyring,
  serviceRowId: string,
): Promise<{ plaintext: string; keyIndex: number }> {
  return decryptValue(stored, keyring, eventsSecretAad(serviceRowId), `The events secret of service ${serviceRowId}`);
}
