import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

/** JSON answers need no content at all, so their policy forbids everything. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Headers for every response. The CSP is set only where a route has not set its own: HTML pages
 * carry a policy that allows their stylesheet (src/pages/layout.ts).
 */
export function securityHeaders(): MiddlewareHandler {
  const standard = secureHeaders({
    contentSecurityPolicy: undefined,
    xFrameOptions: 'DENY',
    // Set below, only where a route has not chosen its own (the pages say same-origin).
    referrerPolicy: false,
    crossOriginResourcePolicy: 'same-origin',
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
  });
  return async (c, next) => {
    await standard(c, next);
    if (!c.res.headers.has('Content-Security-Policy')) c.res.headers.set('Content-Security-Policy', API_CSP);
    if (!c.res.headers.has('Referrer-Policy')) c.res.headers.set('Referrer-Policy', 'no-referrer');
    // Answers carry sessions, tokens and verdicts about people: no cache keeps them unless a route
    // says otherwise (the stylesheet, the OpenAPI document).
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}
