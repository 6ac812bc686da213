import type { Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { brandingOfBindings } from '../pages/branding.ts';
import { errorPage, signOutIsAFormPage } from '../pages/pages.ts';
import { PAGE_ROUTES } from './sign-in.routes.ts';

// The gateway's answers to a browser asking for a page (src/http/wants-html.ts) that is not there
// or not for that method: its HTML error page instead of the JSON error, same status and headers.

export function notFoundPage(c: Context<AppEnv>): Response | Promise<Response> {
  return c.html(
    errorPage(brandingOfBindings(c.env), 'Page not found', 'There is no page at this address.', 'not_found'),
    404,
  );
}

/** `GET /logout` (a link, a typed address) offers the sign-out button; any other, the error page. */
export function methodNotAllowedPage(c: Context<AppEnv>, allowed: string[]): Response | Promise<Response> {
  const branding = brandingOfBindings(c.env);
  const page =
    c.req.path === PAGE_ROUTES.logout.path
      ? signOutIsAFormPage(branding)
      : errorPage(
          branding,
          'Not available this way',
          `This address does not answer ${c.req.method}; it answers ${allowed.join(', ')}.`,
          'method_not_allowed',
        );
  return c.html(page, 405, { Allow: allowed.join(', ') });
}
