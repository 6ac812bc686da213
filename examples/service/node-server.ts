import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Serves a fetch-style handler (a Hono app's `fetch`) on Node's own http server, in a few lines
 * instead of a dependency. Requests are addressed to `origin` (the service's public address),
 * never to the Host header a client sent, so that the app sees the scheme people use (https
 * behind a proxy) and its cookies get `Secure`.
 */
export function serveFetch(handler: (request: Request) => Response | Promise<Response>, origin: () => string): Server {
  return createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    void answer(handler, origin(), incoming, outgoing).catch(() => {
      if (!outgoing.headersSent) outgoing.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      outgoing.end('Internal error\n');
    });
  });
}

async function answer(
  handler: (request: Request) => Response | Promise<Response>,
  origin: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const method = incoming.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const request = new Request(new URL(incoming.url ?? '/', origin), {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(incoming) as ReadableStream, duplex: 'half' } : {}),
  });
  const response = await handler(request);
  const outgoingHeaders: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') outgoingHeaders[name] = value;
  });
  // Each cookie its own Set-Cookie line: joined with commas they would not parse.
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) outgoingHeaders['set-cookie'] = cookies;
  outgoing.writeHead(response.status, outgoingHeaders);
  outgoing.end(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
}

/** Listens on `port` (0: any free one) of `host`, and answers the port it got. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
