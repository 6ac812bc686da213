import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { BRIDGE_SECRET_PATTERN } from '../../src/validation/bridge-secret.ts';

/**
 * The local stand-in for Neon's WebSocket proxy: the Neon driver opens
 * `ws://HOST:PORT/<secret>/v1?address=pghost:pgport` and exchanges raw Postgres wire bytes in
 * binary frames, which this relays to a TCP socket.
 *
 * Any web page the developer visits can open a WebSocket to loopback, so the bridge is a door to
 * Postgres that must open for the Worker alone. It answers the HTTP upgrade itself and refuses,
 * before any WebSocket exists and before any TCP connection is made: a request with an `Origin`
 * header (browsers always send one on a WebSocket handshake; the Neon driver in workerd and `ws`
 * in Node send none), a path without this run's secret, and any address but the one Postgres it was
 * started for.
 */
export interface WsBridge {
  port: number;
  /** host:port, the value of the Worker's DATABASE_WS_PROXY binding. */
  proxyAddress: string;
  /** The per-run secret the path must carry: the Worker's DATABASE_WS_PROXY_SECRET binding. */
  secret: string;
  stats: BridgeStats;
  close(): Promise<void>;
}

export interface BridgeStats {
  /** Connections relayed since start (the bench counts database connections here). */
  connectionsOpened: number;
  connectionsOpen: number;
  /** Frames sent by clients, a proxy for round trips: the driver coalesces each round's writes into one frame. */
  clientFrames: number;
  /** Upgrade requests answered with an HTTP error instead of a connection. */
  refusedUpgrades: number;
}

export interface BridgeTarget {
  host: string;
  port: number;
}

export interface WsBridgeOptions {
  /** The one Postgres this bridge relays to; every other address is refused. */
  target: BridgeTarget;
  /**
   * Further exact targets, for the test suite's stand-ins of a broken database (a server that
   * never answers, a closed port); never used by `npm run dev`.
   */
  alsoRelayTo?: BridgeTarget[];
  /** base64url of at least 32 random bytes; by default the bridge makes one. */
  secret?: string;
  port?: number;
  host?: string;
}

/** A new bridge secret: 32 random bytes, base64url (safe in a URL path and a .vars file). */
export function generateBridgeSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function startWsBridge(options: WsBridgeOptions): Promise<WsBridge> {
  const secret = options.secret ?? generateBridgeSecret();
  if (!BRIDGE_SECRET_PATTERN.test(secret)) {
    throw new Error('The bridge secret must be base64url of at least 32 random bytes (43 characters or more).');
  }
  const allowed = new Set([options.target, ...(options.alsoRelayTo ?? [])].map(targetKey));
  const host = options.host ?? '127.0.0.1';
  const stats: BridgeStats = { connectionsOpened: 0, connectionsOpen: 0, clientFrames: 0, refusedUpgrades: 0 };
  const sockets = new Set<WebSocket>();
  const webSockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    response.end('This is a WebSocket bridge for the local gateway only.\n');
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const decision = decideUpgrade(request, secret, allowed);
    if ('refuse' in decision) {
      stats.refusedUpgrades += 1;
      refuseUpgrade(socket, decision.refuse, decision.reason);
      return;
    }
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      relay(webSocket, decision.target, stats, sockets);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
    server.listen(options.port ?? 0, host);
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('bridge has no TCP address');
  return {
    port: address.port,
    proxyAddress: `${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    secret,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type UpgradeDecision = { target: BridgeTarget } | { refuse: 403; reason: string };

/** Everything is decided from the request line and headers, before the handshake is answered. */
function decideUpgrade(request: IncomingMessage, secret: string, allowed: Set<string>): UpgradeDecision {
  if (request.headers.origin !== undefined) {
    return { refuse: 403, reason: 'An upgrade request with an Origin header comes from a web page: refused.' };
  }
  const url = new URL(request.url ?? '/', 'ws://bridge');
  const [, givenSecret = '', version = '', ...rest] = url.pathname.split('/');
  if (!sameSecret(givenSecret, secret) || !['v1', 'v2'].includes(version) || rest.length > 0) {
    return { refuse: 403, reason: 'This bridge needs its per-run secret in the path.' };
  }
  const target = parseAddress(url.searchParams.get('address'));
  if (!target || !allowed.has(targetKey(target))) {
    return { refuse: 403, reason: 'This bridge relays only to the Postgres it was started for.' };
  }
  return { target };
}

/** Constant-time: hashing first makes both sides the same length whatever was sent. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function parseAddress(address: string | null): BridgeTarget | null {
  const match = address?.match(/^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/);
  if (!match?.[1] || !match[2]) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1], port };
}

/** Hosts compare without IPv6 brackets and case, so `[::1]` in a URL matches a target of `::1`. */
function targetKey(target: BridgeTarget): string {
  return `${target.host.replace(/^\[|\]$/g, '').toLowerCase()}|${target.port}`;
}

function refuseUpgrade(socket: Duplex, status: 403, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function relay(socket: WebSocket, target: BridgeTarget, stats: BridgeStats, sockets: Set<WebSocket>): void {
  sockets.add(socket);
  stats.connectionsOpened += 1;
  stats.connectionsOpen += 1;
  const tcp = connect({ host: target.host.replace(/^\[|\]$/g, ''), port: target.port });
  tcp.setNoDelay(true);
  const pending: Buffer[] = [];
  tcp.on('connect', () => {
    for (const chunk of pending.splice(0)) tcp.write(chunk);
  });
  tcp.on('data', (data) => socket.send(data, { binary: true }));
  tcp.on('error', () => socket.close(1011, 'database connection failed'));
  tcp.on('close', () => socket.close());
  socket.on('message', (data: Buffer) => {
    stats.clientFrames += 1;
    if (tcp.connecting) pending.push(data);
    else tcp.write(data);
  });
  socket.on('close', () => {
    sockets.delete(socket);
    stats.connectionsOpen -= 1;
    tcp.destroy();
  });
  socket.on('error', () => tcp.destroy());
}
