import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { readConfig } from '../config.ts';
import { pageCsp } from '../pages/layout.ts';
import type { AppEnv } from './context.ts';

/** JSON answers need no content at all, so their policy forbids everything. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Headers for every response, picked by what the answer is. An HTML page (a page route's answer
 * or its error page) carries the policy that allows its stylesheet (src/pages/layout.ts) and
 * `Referrer-Policy: same-origin`: still no referrer to other sites, but with no-referrer browsers
 * send `Origin: null` on the page's own sign-out POST, which then cannot be told from a cross-site
 * one. Everything else gets the policy that forbids everything and no referrer at all.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  const standard = secureHeaders({
    contentSecurityPolicy: undefined,
    xFrameOptions: 'DENY',
    // Set below, by the kind of answer.
    referrerPolicy: false,
    crossOriginResourcePolicy: 'same-origin',
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
  });
  return async (c, next) => {
    await standard(c, next);
    const page = c.res.headers.get('Content-Type')?.startsWith('text/html') ?? false;
    // The operator's logo (GATEWAY_LOGO_URL) is the one image from elsewhere a page may show.
    const read = readConfig(c.env);
    const logoUrl = read.ok ? (read.config.GATEWAY_LOGO_URL ?? null) : null;
    c.res.headers.set('Content-Security-Policy', page ? pageCsp(logoUrl) : API_CSP);
    c.res.headers.set('Referrer-Policy', page ? 'same-origin' : 'no-referrer');
    // Answers carry sessions, tokens and verdicts about people: no cache keeps them unless a route
    // says otherwise (the stylesheet, the OpenAPI document).
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}
