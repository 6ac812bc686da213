import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/context.ts';
import { registerSharedComponents } from './contract.ts';
import { serve } from './declared-router.ts';
import { openApiDocumentRoute } from './openapi.routes.ts';

const TAGS = [
  { name: 'health', description: 'Whether the Worker and its database answer.' },
  { name: 'sessions', description: 'A service turns a login code into a session, and ends sessions.' },
  { name: 'people', description: 'Who a person is, whether they may come in, and their GitHub token.' },
  { name: 'admin', description: 'The operator commands, for a service with the `admin` scope.' },
  { name: 'contract', description: 'This document.' },
];

/**
 * The OpenAPI 3.1 document of the app: every declared route (src/routes/*.routes.ts) as it was
 * declared, with the shared components, and the gateway's public URL as its server when set.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>, publicUrl: string | undefined) {
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Edge GitHub gateway',
      version: '1',
      description: 'Sign-in with GitHub and service verification. The guide is docs/api.md.',
    },
    ...(publicUrl ? { servers: [{ url: publicUrl }] } : {}),
    tags: TAGS,
  });
}

/** Serves GET /openapi.json from the app's own declarations; call once the app has all its routes' routers. */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>): void {
  registerSharedComponents(app.openAPIRegistry);
  // Built on first request, once per isolate (and PUBLIC_URL).
  const documents = new Map<string, ReturnType<typeof openApiDocument>>();
  serve(app, openApiDocumentRoute, (c) => {
    const publicUrl = c.var.config.PUBLIC_URL;
    let document = documents.get(publicUrl ?? '');
    if (!document) {
      document = openApiDocument(app, publicUrl);
      documents.set(publicUrl ?? '', document);
    }
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(document, 200);
  });
}
