import { CALLBACK_PATH, createExampleApp } from './app.ts';
import { listen, serveFetch } from './node-server.ts';

/**
 * The example service, configured by its environment:
 *   GATEWAY_URL=http://localhost:8787 SERVICE_ID=demo SERVICE_KEY=gwk_… PORT=3000 node examples/service/main.ts
 * PUBLIC_URL (default http://localhost:PORT), HOST (default 127.0.0.1) and SERVICE_NAME are optional.
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
const app = createExampleApp({
  gatewayUrl,
  serviceId,
  serviceKey,
  publicUrl,
  name: process.env.SERVICE_NAME || serviceId,
});
const server = serveFetch(app.fetch, () => publicUrl);
await listen(server, port, process.env.HOST || '127.0.0.1');
console.log(
  `${serviceId} listening on ${publicUrl}: register ${new URL(CALLBACK_PATH, publicUrl).href} as its redirect URI`,
);
