import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real events receiver on loopback for the Worker tests (the gateway POSTs events to it), with a
 * control API on a port of its own so a test can close a receiver's port and open it again:
 *   POST /receivers                 -> { id, url }  a new receiver on a free port, answering 204
 *   GET  /receivers/:id/received    -> [{ headers, body }]  every request it got, in order
 *   PUT  /receivers/:id/answer      { status, location?, hang? }  what it answers from now on
 *   POST /receivers/:id/close       its port closed (connections refused), POST .../open: back on the same port
 *   POST /receivers/:id/release     the requests it holds (hang) are answered with its status
 */
interface Received {
  headers: Record<string, string>;
  body: string;
}

interface Receiver {
  port: number;
  server: Server | null;
  received: Received[];
  answer: { status: number; location?: string; hang?: boolean };
  held: ServerResponse[];
}

export async function startEventsReceivers(): Promise<{ url: string; close(): Promise<void> }> {
  const receivers = new Map<string, Receiver>();

  function answer(receiver: Receiver, response: ServerResponse): void {
    const headers: Record<string, string> = receiver.answer.location ? { Location: receiver.answer.location } : {};
    response.writeHead(receiver.answer.status, headers).end();
  }

  function serve(receiver: Receiver, request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
      receiver.received.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      if (receiver.answer.hang) receiver.held.push(response);
      else answer(receiver, response);
    });
  }

  async function open(receiver: Receiver): Promise<void> {
    const server = createServer((request, response) => serve(receiver, request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(receiver.port, '127.0.0.1', () => resolve());
    });
    receiver.port = (server.address() as AddressInfo).port;
    receiver.server = server;
  }

  async function close(receiver: Receiver): Promise<void> {
    const server = receiver.server;
    receiver.server = null;
    for (const response of receiver.held.splice(0)) response.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  const control = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const reply = (status: number, body: unknown) =>
        response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      try {
        const [, , id, action] = (request.url ?? '').split('/');
        if (request.method === 'POST' && id === undefined) {
          const receiver: Receiver = { port: 0, server: null, received: [], answer: { status: 204 }, held: [] };
          await open(receiver);
          const newId = String(receivers.size + 1);
          receivers.set(newId, receiver);
          return reply(201, { id: newId, url: `http://127.0.0.1:${receiver.port}/events` });
        }
        const receiver = receivers.get(id ?? '');
        if (!receiver) return reply(404, { error: 'no such receiver' });
        if (action === 'received') return reply(200, receiver.received);
        if (action === 'answer') {
          receiver.answer = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          return reply(200, receiver.answer);
        }
        if (action === 'close') await close(receiver);
        else if (action === 'open') await open(receiver);
        else if (action === 'release') for (const held of receiver.held.splice(0)) answer(receiver, held);
        else return reply(404, { error: 'no such action' });
        return reply(200, { ok: true });
      } catch (error) {
        reply(500, { error: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const { port } = control.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const receiver of receivers.values()) await close(receiver);
      control.closeAllConnections();
      await new Promise<void>((resolve) => control.close(() => resolve()));
    },
  };
}
