import { connect, isIP } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * The local stand-in for Neon's WebSocket proxy: the Neon driver opens
 * `ws://HOST:PORT/v1?address=pghost:pgport` and exchanges raw Postgres wire bytes in binary
 * frames, which this relays to a TCP socket. Only loopback targets are relayed, so the bridge can
 * never be used to reach another machine.
 */
export interface WsBridge {
  port: number;
  /** host:port, the value of the Worker's DATABASE_WS_PROXY binding. */
  proxyAddress: string;
  stats: BridgeStats;
  close(): Promise<void>;
}

export interface BridgeStats {
  /** Connections relayed since start (the bench counts database connections here). */
  connectionsOpened: number;
  connectionsOpen: number;
  /** Frames sent by clients, a proxy for round trips: the driver coalesces each round's writes into one frame. */
  clientFrames: number;
}

export interface WsBridgeOptions {
  port?: number;
  host?: string;
  /** Relay only to this host:port; by default any loopback address is allowed. */
  onlyTarget?: { host: string; port: number };
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

export async function startWsBridge(options: WsBridgeOptions = {}): Promise<WsBridge> {
  const host = options.host ?? '127.0.0.1';
  const server = new WebSocketServer({ host, port: options.port ?? 0, perMessageDeflate: false });
  const stats: BridgeStats = { connectionsOpened: 0, connectionsOpen: 0, clientFrames: 0 };
  const sockets = new Set<WebSocket>();

  server.on('connection', (socket, request) => {
    const target = parseTarget(request.url, options.onlyTarget);
    if (!target) {
      socket.close(1008, 'address not allowed by this bridge');
      return;
    }
    sockets.add(socket);
    stats.connectionsOpened += 1;
    stats.connectionsOpen += 1;
    const tcp = connect({ host: target.host, port: target.port });
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
  });

  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (typeof address === 'string' || address === null) throw new Error('bridge has no TCP address');
  return {
    port: address.port,
    proxyAddress: `${host}:${address.port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        server.close(() => resolve());
      }),
  };
}

function parseTarget(
  requestUrl: string | undefined,
  onlyTarget: WsBridgeOptions['onlyTarget'],
): { host: string; port: number } | null {
  if (!requestUrl) return null;
  const url = new URL(requestUrl, 'ws://bridge');
  if (url.pathname !== '/v1' && url.pathname !== '/v2') return null;
  const address = url.searchParams.get('address');
  const match = address?.match(/^\[?([^\]]+?)\]?:(\d{1,5})$/);
  if (!match?.[1] || !match[2]) return null;
  const host = match[1];
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  if (onlyTarget) return onlyTarget.host === host && onlyTarget.port === port ? { host, port } : null;
  const loopback = LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
  if (!loopback) return null;
  return { host, port };
}
