import { createConnection, createServer } from 'node:net';
import { GatewayError } from '../../../src/errors/gateway-error.ts';

/** A TCP port on loopback that nothing listens on right now. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

export class PortInUseError extends GatewayError<'port_in_use'> {
  constructor(message: string) {
    super('port_in_use', 'conflict', message);
  }
}

/** Fails with a message that says who wanted the port and which variable moves it. */
export async function assertPortFree(port: number, purpose: string, variable: string): Promise<void> {
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = createConnection({ host: '127.0.0.1', port });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (inUse) {
    throw new PortInUseError(
      `Port ${port}, wanted for ${purpose}, is already in use. If an earlier \`npm run dev\` is still running, ` +
        `stop it; otherwise choose another port, e.g. ${variable}=${port + 100} npm run dev.`,
    );
  }
}
