import type * as z from 'zod';
import { open, seal } from '../crypto/sealed-box.ts';

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

/**
 * One kind of sealed cookie: its purpose (bound into the seal, so one kind never opens as
 * another), the shape of its value and how long after `issuedAt` it counts.
 */
export function sealedCookieKind<Value extends { issuedAt: number }>(kind: {
  purpose: string;
  schema: z.ZodType<Value>;
  ttlSeconds: number;
}) {
  return {
    seal: (value: Value, key: CryptoKey): Promise<string> => seal(value, key, kind.purpose),
    /** The value, or null if the cookie is not one this gateway sealed as this kind, or too old. */
    open: async (cookie: string, keys: CryptoKey | readonly CryptoKey[], now = Date.now()): Promise<Value | null> => {
      const parsed = kind.schema.safeParse(await openSealedCookie(cookie, keys, kind.purpose));
      if (!parsed.success) return null;
      if (now - parsed.data.issuedAt > kind.ttlSeconds * 1000) return null;
      return parsed.data;
    },
  };
}
