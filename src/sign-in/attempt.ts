import * as z from 'zod';
import { sealedCookieKind } from './sealed-cookie.ts';

/**
 * One sign-in in progress, kept in a sealed, HttpOnly cookie between /login and the callback:
 * the OAuth state, the PKCE verifier, the redirect_uri GitHub was given, and where to send the
 * person afterwards. `__Host-` (Secure, Path=/, no Domain): only the gateway's own origin can set
 * it, so a sibling subdomain cannot plant an attempt of its own (login CSRF). The prefix demands
 * Path=/, so the cookie also travels to the gateway's other pages; it is sealed and short-lived.
 */
export const SIGN_IN_COOKIE = '__Host-gw_signin';
export const SIGN_IN_TTL_SECONDS = 600;
const PURPOSE = 'sign-in-attempt';

const attemptSchema = z.object({
  state: z.string(),
  verifier: z.string(),
  /** The redirect_uri the authorize request carried: the token request must send exactly this one. */
  githubRedirectUri: z.string(),
  serviceId: z.string().nullable(),
  redirectUri: z.string().nullable(),
  serviceState: z.string().nullable(),
  /** The service's PKCE challenge (S256), stored with its login code. */
  codeChallenge: z.string().nullable().default(null),
  /** The /login address this attempt started from (validated then): where "Try again" leads. */
  retryPath: z.string().startsWith('/login'),
  issuedAt: z.number(),
});

export type SignInAttempt = z.infer<typeof attemptSchema>;

const cookieKind = sealedCookieKind({ purpose: PURPOSE, schema: attemptSchema, ttlSeconds: SIGN_IN_TTL_SECONDS });

export const sealAttempt = cookieKind.seal;
/** The value, or null if the cookie is not one this gateway sealed or it is too old. */
export const openAttempt = cookieKind.open;
