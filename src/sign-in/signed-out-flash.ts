import * as z from 'zod';
import { sealedCookieKind } from './sealed-cookie.ts';

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

const cookieKind = sealedCookieKind({ purpose: PURPOSE, schema: flashSchema, ttlSeconds: SIGNED_OUT_TTL_SECONDS });

export const sealSignedOut = cookieKind.seal;
/** The value, or null if the cookie is not one this gateway sealed or it is too old. */
export const openSignedOut = cookieKind.open;
