import * as z from 'zod';
import { json, sharedError } from './contract.ts';
import { declareRoute } from './declared-router.ts';

const tags = ['health'];

export const livenessRoute = declareRoute({
  method: 'get',
  path: '/livez',
  tags,
  operationId: 'getLiveness',
  summary: 'The Worker answers; nothing else is touched',
  responses: { 200: json(z.object({ status: z.literal('ok') }), 'The Worker is up.') },
});

export const healthRoute = declareRoute({
  method: 'get',
  path: '/health',
  tags,
  operationId: 'getHealth',
  summary: 'Database reachability',
  responses: {
    200: json(
      z.object({
        status: z.literal('ok'),
        database: z.object({ reachable: z.literal(true), roundTripMs: z.number() }),
      }),
      'The database answered, in this many milliseconds.',
    ),
    500: sharedError(500),
    503: sharedError(503),
  },
});
