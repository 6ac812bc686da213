import { createConnection, createServer } from 'node:net';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { describeProcess, devStackAbove, listenerOn } from './process-info.ts';

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
      `Port ${port}, wanted for ${purpose}, is already in use${holderOf(port)}. ${adviceFor(port, variable)}`,
    );
  }
}

/** " by pid N (`command`)" when this machine says who listens, so a leftover of a crash can be found. */
function holderOf(port: number): string {
  const pid = listenerOn(port);
  if (pid === undefined) return '';
  const stack = devStackAbove(pid);
  const owner =
    stack !== undefined && stack !== process.pid ? `, part of the \`npm run dev\` ${describeProcess(stack)}` : '';
  return ` by ${describeProcess(pid)}${owner}`;
}

function adviceFor(port: number, variable: string): string {
  return (
    'If an earlier `npm run dev` is still running (or was left behind by a crash), stop it; ' +
    `otherwise choose another port, e.g. ${variable}=${port + 100} npm run dev.`
  );
}
