import type { Handler, MiddlewareHandler } from 'hono';
import type { GatewayClient } from './client.ts';
import { createGatewayEventsHandler, type GatewayEventsOptions } from './events-route.ts';
import { authenticate, finishSignIn, type SessionOptions, type SignInRoutesOptions, startSignIn } from './handler.ts';
import type { Person, Verdict } from './types.ts';

/** What requireGatewaySession() puts on the context: `c.get('gatewayPerson')`. */
export type GatewayVariables = { gatewayPerson: Person; gatewayVerdict: Verdict };

/**
 * Hono middleware: the request's gateway session (`Authorization: Bearer`, else the session
 * cookie) verified, the person on the context; a 401 JSON answer otherwise.
 */
export function requireGatewaySession(
  client: GatewayClient,
  options: SessionOptions = {},
): MiddlewareHandler<{ Variables: GatewayVariables }> {
  return async (c, next) => {
    const verdict = await authenticate(client, c.req.raw, options);
    if (verdict instanceof Response) return verdict;
    c.set('gatewayVerdict', verdict);
    c.set('gatewayPerson', verdict.user as Person);
    await next();
  };
}

/** The route that starts a sign-in: `app.get('/auth/login', gatewaySignIn(client, { redirectUri }))`. */
export function gatewaySignIn(client: GatewayClient, options: SignInRoutesOptions): Handler {
  return (c) => startSignIn(client, c.req.raw, options);
}

/** The callback route at the redirect URI's path: `app.get('/auth/done', gatewayCallback(client, { redirectUri }))`. */
export function gatewayCallback(client: GatewayClient, options: SignInRoutesOptions): Handler {
  return (c) => finishSignIn(client, c.req.raw, options);
}

/**
 * The events route (docs/api.md, "Events pushed to your service"):
 * `app.post('/gateway/events', gatewayEvents({ secret: env.GATEWAY_EVENTS_SECRET, onEvent }))`.
 * 204 once `onEvent` took a verified event (or for one already taken); 400 or 401 JSON otherwise.
 */
export function gatewayEvents(options: GatewayEventsOptions): Handler {
  const handle = createGatewayEventsHandler(options);
  return (c) => handle(c.req.raw);
}
