import type { Bindings } from '../../../src/config.ts';
import { callWorker } from './call-worker.ts';

/** A fetch for the client that calls the Worker inside workerd (through callWorker) with these bindings. */
export function workerFetch(bindings: () => Bindings): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
    return callWorker(bindings(), `${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      signal: request.signal,
      redirect: 'manual',
      ...(body === undefined ? {} : { body }),
    });
  };
}
