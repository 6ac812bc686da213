import type { Hono } from 'hono';
import { CALLBACK_PATH, createExampleApp, EVENTS_PATH } from '../../../examples/service/app.ts';
import { listen, serveFetch } from '../../../examples/service/node-server.ts';

/**
 * A downstream service for the browser tests: the example service (examples/service/, the client
 * library on Hono), on a free port of its own. Its home page links to "Sign in"; its callback at
 * /auth/done checks the state and exchanges the code through the client, or shows the error the
 * gateway sent back (RFC 6749 §4.1.2.1). Once its events secret is known, it takes the gateway's
 * events at /gateway/events and lists them at /events.
 */
export interface DemoService {
  url: string;
  redirectUri: string;
  /** Its events URL, to register with `gateway services events set`. */
  eventsUrl: string;
  close(): Promise<void>;
}

export async function startDemoService(options: {
  gatewayUrl: string;
  serviceId: string;
  /** The service key, read when a request comes: the service is registered after it listens (its port is its redirect URI's). */
  key: () => string;
  /** What the service calls itself on its pages ("Demo" by default). */
  name?: string;
  /** Its events secret (GATEWAY_EVENTS_SECRET), read when a request comes: made when its events URL is registered. */
  eventsSecret?: () => string | undefined;
}): Promise<DemoService> {
  let url = '';
  let app: { settings: string; app: Hono } | undefined;
  // Made again only when a setting changes: before the first request, as the stack registers it.
  const appFor = (key: string, eventsSecret: string | undefined) => {
    const settings = `${key} ${eventsSecret ?? ''}`;
    if (app?.settings !== settings) {
      const config = { gatewayUrl: options.gatewayUrl, serviceId: options.serviceId, serviceKey: key, publicUrl: url };
      const events = eventsSecret === undefined ? {} : { eventsSecret };
      app = { settings, app: createExampleApp({ ...config, ...events, name: options.name ?? 'Demo' }) };
    }
    return app.app;
  };
  const server = serveFetch(
    (request) => appFor(options.key(), options.eventsSecret?.()).fetch(request),
    () => url,
  );
  url = `http://localhost:${await listen(server, 0, '127.0.0.1')}`;
  return {
    url,
    redirectUri: `${url}${CALLBACK_PATH}`,
    eventsUrl: `${url}${EVENTS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
