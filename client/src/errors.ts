import type { GatewayErrorCode } from './types.ts';

/**
 * A call the gateway refused (a 4xx or 5xx with its `{ error: { code, message } }`), or one that
 * got no answer (`timeout`, `network_error`: `status` is null). Branch on `code`.
 */
export class GatewayClientError<Code extends string = GatewayErrorCode> extends Error {
  override readonly name = 'GatewayClientError';
  readonly code: Code;
  /** The HTTP status, or null when no answer came. */
  readonly status: number | null;
  /** The answer's `X-Request-Id`: the gateway's log has the call under it. */
  readonly requestId: string | null;
  /** Seconds the gateway asked to wait (`Retry-After` of a 429 or 503), when it said. */
  readonly retryAfterSeconds: number | null;

  constructor(
    code: Code,
    message: string,
    details: {
      status?: number | null;
      requestId?: string | null;
      retryAfterSeconds?: number | null;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status ?? null;
    this.requestId = details.requestId ?? null;
    this.retryAfterSeconds = details.retryAfterSeconds ?? null;
  }
}
