import type { Context } from 'hono';

/**
 * Whether a request is a browser asking for a page (a typed address, a link, a form): `Accept`
 * names text/html, or `Sec-Fetch-Dest: document`. Then a 404 or 405 is the HTML error page.
 * Never on /v1: the JSON contract answers the same whatever the client accepts.
 */
export function wantsHtml(c: Context): boolean {
  if (c.req.path === '/v1' || c.req.path.startsWith('/v1/')) return false;
  if (c.req.header('Sec-Fetch-Dest') === 'document') return true;
  return /(^|[\s,])text\/html(\s*[;,]|\s*$)/i.test(c.req.header('Accept') ?? '');
}
