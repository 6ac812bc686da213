import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { auditServiceCalls } from './audit/record.ts';
import type { AppEnv } from './http/context.ts';
import { errorBody } from './http/error-body.ts';
import { handleError, handleNotFound } from './http/error-handler.ts';
import { requestContext } from './http/request-context.ts';
import { securityHeaders } from './http/security-headers.ts';
import { wantsHtml } from './http/wants-html.ts';
import { adminRoutes } from './routes/admin.ts';
import { assetRoutes } from './routes/assets.ts';
import { methodNotAllowedPage, notFoundPage } from './routes/browser-errors.ts';
import { consoleRoutes } from './routes/console.ts';
import { healthRoutes } from './routes/health.ts';
import { jwksRoutes } from './routes/jwks.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { AUDIT_ACTIONS } from './routes/route-table.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { verifyRoutes } from './routes/verify.ts';

/** Builds the gateway: middleware in the order a request meets it, then the routes. */
export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(securityHeaders());
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, allowed) =>
        wantsHtml(c)
          ? methodNotAllowedPage(c, allowed)
          : c.json(
              errorBody('method_not_allowed', `${c.req.method} is not allowed here; use ${allowed.join(', ')}.`),
              405,
              {
                Allow: allowed.join(', '),
              },
            ),
    }),
  );
  app.use(requestContext());

  app.use('/v1/*', auditServiceCalls(AUDIT_ACTIONS));

  app.route('/', healthRoutes);
  app.route('/', signInRoutes);
  app.route('/', assetRoutes);
  app.route('/', sessionRoutes);
  app.route('/', jwksRoutes);
  app.route('/', verifyRoutes);
  app.route('/', adminRoutes);
  app.route('/', openApiRoutes);
  app.route('/', consoleRoutes);

  // A browser asking for a page gets the HTML 404 page; everyone else the JSON error.
  app.notFound((c) => (wantsHtml(c) ? notFoundPage(c) : handleNotFound(c)));
  // The pages answer their own errors as HTML (src/routes/sign-in.ts); everything else is JSON.
  app.onError(handleError);
  return app;
}
