import * as z from 'zod';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../services/admin.ts';
import { DEFAULT_DELIVERIES_PAGE, MAX_DELIVERIES_PAGE } from '../services/service-events-endpoint.ts';
import { MAX_EVENTS_URL_LENGTH } from '../validation/events-url.ts';
import { decimalInteger } from '../validation/operator-input.ts';
import { security, serviceEvents, serviceIdParams, storableText, tags, unknownService } from './admin.routes.ts';
import { BODY_CODES, errorResponse, json, jsonRequest, serviceErrors } from './contract.ts';
import { declareRoute } from './declared-router.ts';

/**
 * Registering a service's events URL and secret, and reading its deliveries (docs/api.md, "Events
 * pushed to your service"), under the admin router's `admin` scope check like every admin route.
 */

export const eventsUrlChange = z.object({
  url: z
    .string()
    .max(MAX_EVENTS_URL_LENGTH * 2)
    .meta({
      description: `https:// (http:// on localhost, 127.0.0.1 or [::1]), no user name, password or fragment, at most ${MAX_EVENTS_URL_LENGTH} characters.`,
    }),
});

export const eventsSecretRotation = z.object({
  /** A JSON integer: a string, a fraction or a negative number is refused, never rounded or read as 0. */
  grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(DEFAULT_GRACE_SECONDS),
  /** Rotate even during an earlier rotation's grace period, dropping that older secret now. */
  force: z.boolean().default(false),
});

export const deliveriesQuery = z.object({
  limit: decimalInteger(1, MAX_DELIVERIES_PAGE).default(DEFAULT_DELIVERIES_PAGE),
  cursor: storableText(200).optional().meta({ description: "The previous page's `next_cursor`." }),
});

const delivery = z
  .object({
    id: z.string().meta({ description: 'The `webhook-id` of every attempt: `msg_` and 32 hex digits.' }),
    type: z.string(),
    created_at: z.string(),
    attempts: z.number().int(),
    delivered_at: z.string().nullable(),
    given_up_at: z.string().nullable(),
    next_attempt_at: z.string().nullable().meta({ description: 'Null once delivered or given up.' }),
    last_attempt: z
      .object({
        at: z.string(),
        status: z.number().int().nullable().meta({ description: 'Null when no answer came.' }),
        error: z.string().nullable(),
        duration_ms: z.number().int(),
      })
      .nullable(),
  })
  .meta({ id: 'EventDelivery' });

const noEventsUrl = 'The service has no events URL (rotate-secret), a bad URL, or a grace period out of bounds.';

export const setEventsRoute = declareRoute({
  method: 'put',
  path: '/v1/admin/services/{id}/events',
  tags,
  operationId: 'setServiceEvents',
  summary: "Set the service's events URL (a secret is made the first time, shown once)",
  'x-audit-action': 'admin:PUT services/:id/events',
  security,
  request: { params: serviceIdParams, body: jsonRequest(eventsUrlChange, 'Where to POST its events.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(
      z.object({
        events: serviceEvents.unwrap(),
        secret: z
          .string()
          .nullable()
          .meta({ description: 'whsec_…: only when the service had no secret, shown this once; else null.' }),
      }),
      'The events as set, and the signing secret when one was made.',
    ),
    400: errorResponse([...BODY_CODES, 'invalid_service'], 'A URL the rule refuses; the message says why.'),
    404: unknownService,
  },
});

export const clearEventsRoute = declareRoute({
  method: 'delete',
  path: '/v1/admin/services/{id}/events',
  tags,
  operationId: 'clearServiceEvents',
  summary: 'No more events: drop the URL and secrets, give up the undelivered events',
  'x-audit-action': 'admin:DELETE services/:id/events',
  security,
  request: { params: serviceIdParams },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(
      z.object({
        events: z.null(),
        given_up: z.number().int().meta({ description: 'How many undelivered events were given up.' }),
      }),
      'The events are off.',
    ),
    404: unknownService,
  },
});

export const rotateEventsSecretRoute = declareRoute({
  method: 'post',
  path: '/v1/admin/services/{id}/events/rotate-secret',
  tags,
  operationId: 'rotateServiceEventsSecret',
  summary: 'A new events secret; the old one also signs during the grace period',
  'x-audit-action': 'admin:POST services/:id/events/rotate-secret',
  security,
  request: { params: serviceIdParams, body: jsonRequest(eventsSecretRotation, 'The grace period of the old secret.') },
  responses: {
    ...serviceErrors({ body: true, scoped: true }),
    200: json(
      z.object({ secret: z.string(), previous_secret_expires_at: z.string().nullable() }),
      'The new secret, shown this once, and until when the old one also signs (null: it no longer does).',
    ),
    400: errorResponse([...BODY_CODES, 'invalid_service'], noEventsUrl),
    404: unknownService,
    409: errorResponse(
      ['rotation_in_progress'],
      'An earlier rotation is still in its grace period; send `"force": true` to drop that older secret now.',
    ),
  },
});

export const eventDeliveriesRoute = declareRoute({
  method: 'get',
  path: '/v1/admin/services/{id}/events/deliveries',
  tags,
  operationId: 'listServiceEventDeliveries',
  summary: "The service's events, newest first, each with its last attempt",
  'x-audit-action': 'admin:GET services/:id/events/deliveries',
  security,
  request: { params: serviceIdParams, query: deliveriesQuery },
  responses: {
    ...serviceErrors({ body: false, scoped: true }),
    200: json(
      z.object({ deliveries: z.array(delivery), next_cursor: z.string().nullable() }),
      'A page of events, and the cursor of the next page (null on the last).',
    ),
    400: errorResponse(['invalid_query'], 'A limit or cursor that is not valid; the message names it.'),
    404: unknownService,
  },
});
