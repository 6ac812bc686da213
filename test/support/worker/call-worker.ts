import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import type { Bindings } from '../../../src/config.ts';
import worker from '../../../src/index.ts';

/**
 * Sends one request to the Worker's fetch handler inside workerd with the given bindings, and
 * waits for its `waitUntil` work (pool shutdown, audit writes) before returning.
 */
export async function callWorker(bindings: Bindings, path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(new URL(path, 'https://gateway.test'), init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** An admin API call with a service key: JSON body when one is given. */
export function callAdmin(bindings: Bindings, key: string, method: string, path: string, body?: unknown) {
  return callWorker(bindings, path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
