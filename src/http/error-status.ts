import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorKind } from '../errors/gateway-error.ts';

/** The one mapping from a kind of failure to the HTTP status that answers it. */
export const STATUS_OF_KIND = {
  input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
  unavailable: 503,
} as const satisfies Record<ErrorKind, ContentfulStatusCode>;
