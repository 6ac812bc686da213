/**
 * What kind of failure an error is, whoever meets it: the HTTP error handler turns a kind into a
 * status (src/http/error-status.ts), an operator command into an exit code (scripts/lib/cli.ts).
 * A module chooses the kind of each of its codes; callers never translate one error into another
 * to change how it is answered.
 */
export type ErrorKind =
  /** The caller's input is malformed or out of bounds (HTTP 400, exit 2). */
  | 'input'
  /** No valid credentials (401). */
  | 'unauthorized'
  /** Valid credentials, but not for this (403). */
  | 'forbidden'
  /** What the input names does not exist (404). */
  | 'not_found'
  /** The request is well-formed but the state it meets refuses it (409). */
  | 'conflict'
  /** A body over its size limit (413). */
  | 'too_large'
  /** A body of a media type the route does not take (415). */
  | 'unsupported_media_type'
  /** Over a rate limit (429, with Retry-After). */
  | 'rate_limited'
  /** The gateway's own fault or misconfiguration (500). */
  | 'internal'
  /** A service the gateway depends on answered wrongly or not at all (502). */
  | 'upstream'
  /** The gateway's own database cannot be reached just now (503, with Retry-After). */
  | 'unavailable';

export interface GatewayErrorOptions {
  /** The error this one explains (kept for the log, never shown to a client). */
  cause?: unknown;
  /** Headers the HTTP answer carries (Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
}

/**
 * Every expected failure in this codebase: a `code` a caller can branch on (each module declares
 * its codes as a union, so `switch (error.code)` narrows), a `kind` that says how it is answered,
 * a message that says what to do next, and the `cause`. Subclasses only name themselves and fix
 * their codes.
 */
export class GatewayError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly kind: ErrorKind;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: Code, kind: ErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = kind;
    this.headers = options.headers ?? {};
  }
}

/** Whether a value is one of the codebase's expected failures (and not a bug). */
export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof GatewayError;
}
