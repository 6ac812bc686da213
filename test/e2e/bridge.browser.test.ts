import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWsBridge, type WsBridge } from '../../scripts/lib/ws-bridge.ts';
import { launchChromium } from '../support/node/browser.ts';

/**
 * The review's attack, in a real browser: a page on another origin opens a WebSocket to the local
 * database bridge. The bridge must not relay a byte, even for a page that somehow has the secret.
 * The "database" is a TCP server that greets each connection, as Postgres answers a startup.
 */
let browser: Browser;
let bridge: WsBridge;
let database: { server: Server; port: number; connections: number };
let page: { server: HttpServer; url: string };

beforeAll(async () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    database.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write('R-postgres-bytes');
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  database = { server, port: (server.address() as AddressInfo).port, connections: 0 };
  bridge = await startWsBridge({ target: { host: '127.0.0.1', port: database.port } });

  // Another origin: any web site the developer visits while `npm run dev` runs.
  const pageServer = createHttpServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html' });
    response.end('<!doctype html><title>another site</title>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  page = { server: pageServer, url: `http://localhost:${(pageServer.address() as AddressInfo).port}/` };

  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await bridge?.close();
  await new Promise((resolve) => page?.server.close(resolve));
  await new Promise((resolve) => database?.server.close(resolve));
});

/** Runs in the page: what a WebSocket to `url` saw before it ended. */
async function openFromPage(url: string): Promise<string[]> {
  const tab = await browser.newPage();
  try {
    await tab.goto(page.url);
    return await tab.evaluate(
      (target) =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          const socket = new WebSocket(target);
          socket.binaryType = 'arraybuffer';
          socket.onopen = () => seen.push('open');
          socket.onmessage = () => {
            seen.push('message');
            socket.close();
          };
          socket.onerror = () => seen.push('error');
          socket.onclose = () => resolve(seen);
        }),
      url,
    );
  } finally {
    await tab.close();
  }
}

describe('the database bridge seen from a web page', () => {
  it('opens no WebSocket and relays no database byte to a page on another origin, secret or not', async () => {
    const address = `address=127.0.0.1:${database.port}`;
    expect(await openFromPage(`ws://${bridge.proxyAddress}/v1?${address}`)).toEqual(['error']);
    expect(await openFromPage(`ws://${bridge.proxyAddress}/${bridge.secret}/v1?${address}`)).toEqual(['error']);
    expect(database.connections).toBe(0);
    expect(bridge.stats.connectionsOpened).toBe(0);
    expect(bridge.stats.refusedUpgrades).toBe(2);
  });
});
