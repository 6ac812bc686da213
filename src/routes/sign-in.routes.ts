/**
 * The pages a person's browser visits. They are not part of the JSON contract (docs/api.md, "The
 * gateway's own pages"): an error on one is an HTML page, never JSON.
 */
export const PAGE_ROUTES = {
  landing: { method: 'get', path: '/' },
  login: { method: 'get', path: '/login' },
  callback: { method: 'get', path: '/auth/github/callback' },
  logout: { method: 'post', path: '/logout' },
  /** A sign-in that ended not admitted (303 from the callback): reloading it asks again. */
  pending: { method: 'get', path: '/pending' },
  /** Where a sign-out lands (303 from POST /logout): reloading it posts nothing. */
  signedOut: { method: 'get', path: '/signed-out' },
} as const;

/** The pages' stylesheet: an asset, not a page (its errors, if any, are JSON). */
export const STYLESHEET_ROUTE = { method: 'get', path: '/assets/gateway.css' } as const;
