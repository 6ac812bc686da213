import * as z from 'zod';
import { seal } from '../crypto/sealed-box.ts';
import { openSealedCookie } from './sealed-cookie.ts';

/**
 * What a sign-out did, for the signed-out page it redirects to (POST, then 303 to GET
 * /signed-out, so a reload shows the page again rather than posting again). Sealed, so that a
 * link cannot make the page claim a sign-out that did not happen; short-lived, kept on reload.
 */
export const SIGNED_OUT_COOKIE = '__Host-gw_signed_out';
export const SIGNED_OUT_TTL_SECONDS = 300;
const PURPOSE = 'signed-out';

const flashSchema = z.object({ servicesSignedOut: z.number().int().min(0), issuedAt: z.number() });

export type SignedOutFlash = z.infer<typeof flashSchema>;

export function sealSignedOut(flash: SignedOutFlash, key: CryptoKey): Promise<string> {
  return seal(flash, key, PURPOSE);
}

export async function openSignedOut(
  cookie: string,
  keys: readonly CryptoKey[],
  now = Date.now(),
): Promise<SignedOutFlash | null> {
  const parsed = flashSchema.safeParse(await openSealedCookie(cookie, keys, PURPOSE));
  if (!parsed.success) return null;
  if (now - parsed.data.issuedAt > SIGNED_OUT_TTL_SECONDS * 1000) return null;
  return parsed.data;
}
