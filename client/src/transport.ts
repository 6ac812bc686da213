import { GatewayClientError } from './errors.ts';
import type { GatewayErrorBody } from './types.ts';

export interface TransportOptions {
  gatewayUrl: URL;
  key: string;
  fetch: typeof fetch;
  timeoutMs: number;
  retries: number;
}

/**
 * Which refusals a call may be sent again after. 429 is answered before any handler runs (the
 * key-check budget and the service's rate limit come first), so every call may retry it; 503
 * (`database_unavailable`) only a call that changes nothing when it runs twice.
 */
export type RetryPolicy = 'reads' | 'before-handler-only';

const RETRIED_ALWAYS = new Set([429]);
const RETRIED_FOR_READS = new Set([429, 503]);
/** When a 429 or 503 carries no usable Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * POSTs a JSON body to the gateway with the service key: one deadline (`timeoutMs`) for the call
 * and its retries; a retry only on the statuses the policy names, at most `retries` of them, each
 * after the answer's Retry-After, and never one whose wait would pass the deadline.
 */
export async function postJson<Answer>(
  options: TransportOptions,
  path: string,
  body: unknown,
  policy: RetryPolicy,
): Promise<Answer> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const deadline = Date.now() + options.timeoutMs;
  const retried = policy === 'reads' ? RETRIED_FOR_READS : RETRIED_ALWAYS;
  const url = new URL(path.replace(/^\//, ''), options.gatewayUrl);
  for (let attempt = 0; ; attempt++) {
    const response = await send(options, url, body, signal);
    if (response.ok) return readJson<Answer>(response);
    const error = await errorOf(response);
    const waitSeconds = error.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    const mayRetry =
      retried.has(response.status) && attempt < options.retries && Date.now() + waitSeconds * 1000 < deadline;
    if (!mayRetry) throw error;
    await sleep(waitSeconds * 1000, signal);
  }
}

async function send(options: TransportOptions, url: URL, body: unknown, signal: AbortSignal): Promise<Response> {
  try {
    return await options.fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${options.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
  } catch (cause) {
    throw transportError(cause, signal, options.timeoutMs);
  }
}

function transportError(cause: unknown, signal: AbortSignal, timeoutMs: number): GatewayClientError {
  if (signal.aborted) {
    return new GatewayClientError('timeout', `The gateway did not answer within ${timeoutMs} ms.`, { cause });
  }
  return new GatewayClientError('network_error', 'The gateway could not be reached.', { cause });
}

async function readJson<Answer>(response: Response): Promise<Answer> {
  try {
    return (await response.json()) as Answer;
  } catch (cause) {
    throw new GatewayClientError('unexpected_response', 'The gateway answered with something that is not JSON.', {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      cause,
    });
  }
}

async function errorOf(response: Response): Promise<GatewayClientError> {
  const details = {
    status: response.status,
    requestId: response.headers.get('x-request-id'),
    retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
  };
  const body = (await response.json().catch(() => null)) as GatewayErrorBody | null;
  const code = body?.error?.code;
  if (typeof code !== 'string') {
    return new GatewayClientError(
      'unexpected_response',
      `The gateway answered ${response.status} without an error code.`,
      details,
    );
  }
  return new GatewayClientError(code as never, String(body?.error.message ?? ''), details);
}

/** Retry-After as seconds (RFC 9110 §10.2.3: a number of seconds, or an HTTP date). */
export function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(new GatewayClientError('timeout', 'The gateway did not answer in time.'));
      },
      { once: true },
    );
  });
}
