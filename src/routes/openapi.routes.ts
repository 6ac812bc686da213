import * as z from 'zod';
import { json, sharedError } from './contract.ts';
import { declareRoute } from './declared-router.ts';

export const openApiDocumentRoute = declareRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['contract'],
  operationId: 'getOpenApiDocument',
  summary: 'This document',
  responses: {
    200: json(
      z
        .object({ openapi: z.string(), info: z.object({ title: z.string(), version: z.string() }).loose() })
        .loose()
        .meta({ description: 'An OpenAPI 3.1 document.' }),
      'The OpenAPI 3.1 document of every JSON endpoint, generated from the route declarations.',
    ),
    500: sharedError(500),
  },
});
