import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWsBridge, type WsBridge } from '../../scripts/lib/ws-bridge.ts';

/**
 * The dev, test and bench bridge turns a WebSocket into a TCP connection to Postgres: any web page
 * can open a WebSocket to loopback, so the bridge must refuse everything but the Worker's own
 * requests before a single byte reaches the database. The target here is a TCP server that greets
 * every connection (as Postgres answers the startup message), and counts them.
 */
interface FakeDatabase {
  port: number;
  connections: number;
  server: Server;
}

const GREETING = Buffer.from('R-postgres-bytes');
let database: FakeDatabase;
let otherLoopbackServer: FakeDatabase;
let bridge: WsBridge;

async function startFakeDatabase(): Promise<FakeDatabase> {
  const sockets = new Set<Socket>();
  const fake: FakeDatabase = { port: 0, connections: 0, server: createServer() };
  fake.server.on('connection', (socket) => {
    fake.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(GREETING);
    socket.on('data', (data) => socket.write(data));
  });
  fake.server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  return fake;
}

type Outcome =
  | { refused: number; body: string }
  | { opened: true; firstMessage: Buffer }
  | { openedThenClosed: number };

/** Tries an upgrade; a refusal is the HTTP status the bridge answered with, never a WebSocket. */
function tryUpgrade(path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${bridge.proxyAddress}${path}`, { headers });
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ refused: response.statusCode ?? 0, body }));
    });
    socket.on('message', (data: Buffer) => {
      resolve({ opened: true, firstMessage: data });
      socket.close();
    });
    // Resolves only if nothing above did: a WebSocket was established and then closed.
    socket.on('close', (code) => resolve({ openedThenClosed: code }));
    socket.on('error', (error) => {
      if (!error.message.startsWith('Unexpected server response')) reject(error);
    });
  });
}

const targetAddress = () => `127.0.0.1:${database.port}`;

beforeAll(async () => {
  database = await startFakeDatabase();
  otherLoopbackServer = await startFakeDatabase();
  bridge = await startWsBridge({ target: { host: '127.0.0.1', port: database.port } });
});

afterAll(async () => {
  await bridge.close();
  await new Promise((resolve) => database.server.close(resolve));
  await new Promise((resolve) => otherLoopbackServer.server.close(resolve));
});

describe('the WebSocket bridge to the local Postgres', () => {
  it('relays the database bytes for its secret and its own target, with no Origin header', async () => {
    const before = database.connections;
    const outcome = await tryUpgrade(`/${bridge.secret}/v1?address=${targetAddress()}`);
    expect(outcome).toEqual({ opened: true, firstMessage: GREETING });
    expect(database.connections).toBe(before + 1);
  });

  it('refuses an upgrade carrying a browser Origin with 403, and makes no connection to the database', async () => {
    const before = { connections: database.connections, opened: bridge.stats.connectionsOpened };
    const outcome = await tryUpgrade(`/${bridge.secret}/v1?address=${targetAddress()}`, {
      Origin: 'https://attacker.example',
    });
    expect(outcome).toEqual({ refused: 403, body: expect.stringContaining('Origin') });
    expect(database.connections).toBe(before.connections);
    expect(bridge.stats.connectionsOpened).toBe(before.opened);
  });

  it('refuses an upgrade with Origin "null" (a sandboxed page or a file) with 403', async () => {
    const before = database.connections;
    const outcome = await tryUpgrade(`/${bridge.secret}/v1?address=${targetAddress()}`, { Origin: 'null' });
    expect(outcome).toMatchObject({ refused: 403 });
    expect(database.connections).toBe(before);
  });

  it('refuses a missing secret (the documented /v1 path) with 403, and makes no connection', async () => {
    const before = database.connections;
    expect(await tryUpgrade(`/v1?address=${targetAddress()}`)).toMatchObject({ refused: 403 });
    expect(await tryUpgrade(`/v2?address=${targetAddress()}`)).toMatchObject({ refused: 403 });
    expect(database.connections).toBe(before);
  });

  it('refuses a wrong secret, even one differing in the last character, with 403', async () => {
    const before = database.connections;
    const last = bridge.secret.at(-1) === 'A' ? 'B' : 'A';
    const nearMiss = `${bridge.secret.slice(0, -1)}${last}`;
    expect(await tryUpgrade(`/${nearMiss}/v1?address=${targetAddress()}`)).toMatchObject({ refused: 403 });
    expect(await tryUpgrade(`/${bridge.secret}x/v1?address=${targetAddress()}`)).toMatchObject({ refused: 403 });
    expect(database.connections).toBe(before);
  });

  it('refuses any address but its target with 403, even another loopback port or name', async () => {
    const before = { target: database.connections, other: otherLoopbackServer.connections };
    for (const address of [
      `127.0.0.1:${otherLoopbackServer.port}`,
      `localhost:${otherLoopbackServer.port}`,
      `127.0.0.2:${database.port}`,
      `10.0.0.5:5432`,
      '',
    ]) {
      const outcome = await tryUpgrade(`/${bridge.secret}/v1?address=${address}`);
      expect(outcome, address).toMatchObject({ refused: 403 });
    }
    expect(await tryUpgrade(`/${bridge.secret}/v1`)).toMatchObject({ refused: 403 });
    expect(database.connections).toBe(before.target);
    expect(otherLoopbackServer.connections).toBe(before.other);
  });

  it('answers a plain HTTP request (no upgrade) with 426 and relays nothing', async () => {
    const before = database.connections;
    const response = await fetch(`http://${bridge.proxyAddress}/${bridge.secret}/v1?address=${targetAddress()}`);
    expect(response.status).toBe(426);
    expect(database.connections).toBe(before);
  });

  it('makes a random secret of at least 32 bytes for each bridge, and refuses a weak one given to it', async () => {
    const another = await startWsBridge({ target: { host: '127.0.0.1', port: database.port } });
    try {
      expect(another.secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(another.secret).not.toBe(bridge.secret);
    } finally {
      await another.close();
    }
    await expect(
      startWsBridge({ target: { host: '127.0.0.1', port: database.port }, secret: 'short-secret' }),
    ).rejects.toThrow(/at least 32 random bytes/);
  });
});
