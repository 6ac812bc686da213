import { createConnection } from 'node:net';

/** Whether something accepts connections on this loopback port (a stack that should be gone, or up). */
export function portOpen(port: string | number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
