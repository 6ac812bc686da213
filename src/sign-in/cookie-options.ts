import type { CookieOptions } from 'hono/utils/cookie';

/**
 * How the gateway sets (and deletes) each of its cookies, the session's and the sign-in
 * attempt's: `__Host-` names, so Secure, Path=/ and no Domain (only the gateway's own origin can
 * set them); HttpOnly (no script reads them); SameSite=Lax (they travel on the top-level
 * navigation back from GitHub, not on a sibling site's requests). A delete must repeat the
 * attributes or the browser keeps the cookie.
 */
export const GATEWAY_COOKIE = {
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'Lax',
} as const satisfies CookieOptions;
