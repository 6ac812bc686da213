import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteConfig } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { registerSharedComponents } from './contract.ts';
import { serve } from './declared-router.ts';
import { openApiDocumentRoute } from './openapi.routes.ts';
import { API_ROUTES } from './route-table.ts';

const TAGS = [
  { name: 'health', description: 'Whether the Worker and its database answer.' },
  {
    name: 'sessions',
    description:
      'A service turns a login code into a session (and an assertion it verifies offline), and ends sessions; the keys assertions are signed with.',
  },
  { name: 'people', description: 'Who a person is, whether they may come in, and their GitHub token.' },
  { name: 'admin', description: 'The operator commands, for a service with the `admin` scope.' },
  { name: 'contract', description: 'This document.' },
];

/**
 * The OpenAPI 3.1 document of the given route declarations (the route table's: every route the
 * app serves as JSON), as declared, with the shared components, and the gateway's public URL as
 * its server when set.
 */
export function openApiDocument(routes: readonly RouteConfig[], publicUrl: string | undefined) {
  const registry = new OpenAPIRegistry();
  registerSharedComponents(registry);
  // The middleware enforces the declaration; the document only shows it.
  for (const { middleware: _enforcement, hide: _hide, ...route } of routes) registry.registerPath(route);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
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

/** Built on first request, once per isolate (and PUBLIC_URL). */
const documents = new Map<string, ReturnType<typeof openApiDocument>>();

export const openApiRoutes = new Hono<AppEnv>();

serve(openApiRoutes, openApiDocumentRoute, (c) => {
  const publicUrl = c.var.config.PUBLIC_URL;
  let document = documents.get(publicUrl ?? '');
  if (!document) {
    document = openApiDocument(API_ROUTES, publicUrl);
    documents.set(publicUrl ?? '', document);
  }
  c.header('Cache-Control', 'public, max-age=300');
  return c.json(document, 200);
});
