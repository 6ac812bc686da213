import { OpenAPIHono, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type * as z from 'zod';
import type { AppEnv } from '../http/context.ts';
import { answerInvalidInput } from '../http/invalid-input.ts';
import { jsonBodyInput, queryInput } from '../http/route-input.ts';

/** A router whose routes are declared (`createRoute`) and so appear in /openapi.json. */
export function declaredRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: answerInvalidInput });
}

/**
 * Serves a declared route: the declaration goes into the document as written, and the request
 * meets the declaration's middleware (the key and scope check), then its validation, then the
 * handler. The JSON body and the query are validated by the gateway's own readers
 * (src/http/route-input.ts) rather than the library's: its JSON reader knows no size limit, strict
 * UTF-8 or the gateway's error codes, and its query reader turns a repeated name into an array.
 * Path parameters are left to the library, whose failures `answerInvalidInput` answers.
 */
export function serve<Route extends RouteConfig>(
  router: OpenAPIHono<AppEnv>,
  route: Route,
  handler: RouteHandler<Route, AppEnv>,
): void {
  const { middleware, hide, ...declared } = route;
  if (!hide) router.openAPIRegistry.registerPath(declared);
  const { body, query, ...validatedByLibrary } = route.request ?? {};
  const mediaType = body?.content['application/json'];
  const bodySchema = mediaType && 'schema' in mediaType ? mediaType.schema : undefined;
  const ownValidation: MiddlewareHandler<AppEnv>[] = [
    ...(query ? [queryInput(query)] : []),
    ...(bodySchema && isZodSchema(bodySchema) ? [jsonBodyInput(bodySchema)] : []),
  ];
  const routeMiddleware = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
  router.openapi(
    { ...declared, hide: true, request: validatedByLibrary, middleware: [...routeMiddleware, ...ownValidation] },
    // The handler's types come from the full declaration above; only the runtime copy lacks the body and query.
    handler as never,
  );
}

/** A declaration's schema is zod here, always; the library's types also allow a JSON Schema. */
function isZodSchema(schema: object): schema is z.ZodType {
  return 'safeParse' in schema;
}
