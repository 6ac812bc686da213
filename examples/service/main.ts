import { CALLBACK_PATH, createExampleApp, EVENTS_PATH } from './app.ts';
import { listen, serveFetch } from './node-server.ts';

/**
 * The example service, configured by its environment:
 *   GATEWAY_URL=http://localhost:8787 SERVICE_ID=demo SERVICE_KEY=gwk_… PORT=3000 node examples/service/main.ts
 * PUBLIC_URL (default http://localhost:PORT), HOST (default 127.0.0.1), SERVICE_NAME and
 * GATEWAY_EVENTS_SECRET (the whsec_… of `gateway services events set`: events at /gateway/events) are optional.
 */
function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    console.error(
      `${name} is not set: run with GATEWAY_URL, SERVICE_ID, SERVICE_KEY and PORT set (docs/api.md, "An example service").`,
    );
    process.exit(2);
  }
  return value;
}

const gatewayUrl = required('GATEWAY_URL');
const serviceId = required('SERVICE_ID');
const serviceKey = required('SERVICE_KEY');
const port = Number(process.env.PORT ?? '3000');
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a port number (1-65535), not "${process.env.PORT}".`);
  process.exit(2);
}
const publicUrl = process.env.PUBLIC_URL || `http://localhost:${port}`;
const eventsSecret = process.env.GATEWAY_EVENTS_SECRET || undefined;
if (eventsSecret !== undefined && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(eventsSecret)) {
  console.error(
    'GATEWAY_EVENTS_SECRET is not an events secret: set it to the whsec_… that `gateway services events set` printed.',
  );
  process.exit(2);
}
const app = createExampleApp({
  gatewayUrl,
  serviceId,
  serviceKey,
  publicUrl,
  name: process.env.SERVICE_NAME || serviceId,
  ...(eventsSecret ? { eventsSecret } : {}),
});
const server = serveFetch(app.fetch, () => publicUrl);
await listen(server, port, process.env.HOST || '127.0.0.1');
console.log(
  `${serviceId} listening on ${publicUrl}: register ${new URL(CALLBACK_PATH, publicUrl).href} as its redirect URI`,
);
if (eventsSecret) console.log(`events taken at ${new URL(EVENTS_PATH, publicUrl).href}`);
