import { open } from '../crypto/sealed-box.ts';

/**
 * Opens a sealed cookie with the current cookie key or an older one (a key rotation must not
 * strand a person mid-sign-in): the value, or null if no key opens it for this purpose.
 */
export async function openSealedCookie(
  cookie: string,
  keys: CryptoKey | readonly CryptoKey[],
  purpose: string,
): Promise<unknown> {
  for (const key of Array.isArray(keys) ? keys : [keys]) {
    const opened = await open(cookie, key, purpose);
    if (opened !== null) return opened;
  }
  return null;
}
