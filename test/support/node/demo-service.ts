import type { Hono } from 'hono';
import { CALLBACK_PATH, createExampleApp } from '../../../examples/service/app.ts';
import { listen, serveFetch } from '../../../examples/service/node-server.ts';

/**
 * A downstream service for the browser tests: the example service (examples/service/, the client
 * library on Hono), on a free port of its own. Its home page links to "Sign in"; its callback at
 * /auth/done checks the state and exchanges the code through the client, or shows the error the
 * gateway sent back (RFC 6749 §4.1.2.1).
 */
export interface DemoService {
  url: string;
  redirectUri: string;
  close(): Promise<void>;
}

export async function startDemoService(options: {
  gatewayUrl: string;
  serviceId: string;
  /** The service key, read when a request comes: the service is registered after it listens (its port is its redirect URI's). */
  key: () => string;
  /** What the service calls itself on its pages ("Demo" by default). */
  name?: string;
}): Promise<DemoService> {
  let url = '';
  let app: { key: string; app: Hono } | undefined;
  const appFor = (key: string) => {
    if (app?.key !== key) {
      const config = { gatewayUrl: options.gatewayUrl, serviceId: options.serviceId, serviceKey: key, publicUrl: url };
      app = { key, app: createExampleApp({ ...config, name: options.name ?? 'Demo' }) };
    }
    return app.app;
  };
  const server = serveFetch(
    (request) => appFor(options.key()).fetch(request),
    () => url,
  );
  url = `http://localhost:${await listen(server, 0, '127.0.0.1')}`;
  return {
    url,
    redirectUri: `${url}${CALLBACK_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
