import type { Hono } from 'hono';
import { adminCallOrigin } from '../changes/http-origin.ts';
import type { AppEnv } from '../http/context.ts';
import { eventsJson } from '../services/events-summary.ts';
import {
  clearEvents,
  deliveryJson,
  EventsRotationInProgressError,
  rotateEventsSecret,
  setEventsUrl,
  showEvents,
} from '../services/service-events-endpoint.ts';
import {
  clearEventsRoute,
  eventDeliveriesRoute,
  rotateEventsSecretRoute,
  setEventsRoute,
} from './admin-events.routes.ts';
import { serve } from './declared-router.ts';

/** A refused rotation says how to force it, in the API's words (the command says `--force`). */
function withForceHint(error: unknown): never {
  if (error instanceof EventsRotationInProgressError)
    error.message += ' Send "force": true to rotate anyway and drop it now.';
  throw error;
}

/** The events routes of the admin API, on its router (behind its `admin` scope check). */
export function serveEventsRoutes(adminRoutes: Hono<AppEnv>, serviceIdFrom: (id: string) => string): void {
  serve(adminRoutes, setEventsRoute, async (c) => {
    const set = await setEventsUrl(
      c.var.database(),
      await c.var.tokenKeyring(),
      serviceIdFrom(c.req.valid('param').id),
      c.req.valid('json').url,
      adminCallOrigin(c),
    );
    return c.json({ events: eventsJson(set.events), secret: set.secret }, 200);
  });

  serve(adminRoutes, clearEventsRoute, async (c) => {
    const cleared = await clearEvents(c.var.database(), serviceIdFrom(c.req.valid('param').id), adminCallOrigin(c));
    return c.json({ events: null, given_up: cleared.givenUp }, 200);
  });

  serve(adminRoutes, rotateEventsSecretRoute, async (c) => {
    const body = c.req.valid('json');
    const rotated = await rotateEventsSecret(
      c.var.database(),
      await c.var.tokenKeyring(),
      serviceIdFrom(c.req.valid('param').id),
      body.grace_seconds,
      new Date(),
      { force: body.force, origin: adminCallOrigin(c) },
    ).catch(withForceHint);
    return c.json(
      { secret: rotated.secret, previous_secret_expires_at: rotated.previousSecretExpiresAt?.toISOString() ?? null },
      200,
    );
  });

  serve(adminRoutes, eventDeliveriesRoute, async (c) => {
    const query = c.req.valid('query');
    const shown = await showEvents(c.var.database(), serviceIdFrom(c.req.valid('param').id), {
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return c.json({ deliveries: shown.deliveries.map(deliveryJson), next_cursor: shown.nextCursor }, 200);
  });
}
