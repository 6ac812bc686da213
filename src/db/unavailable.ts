/**
 * Whether an error means the database could not be reached or went away (an outage, a restart, a
 * connection limit), as opposed to a query that the database refused. The first is answered 503
 * with Retry-After, so callers retry; the second is a bug and stays a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // drizzle wraps the driver's error ("Failed query: ...") in `cause`; look a few levels down.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    if (matchesOutage(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * SQLSTATEs of a lost or refused connection: class 08 (but not 08P01, a protocol violation, which
 * is a bug), the operator-intervention 57P0x, too many connections.
 */
const OUTAGE_SQLSTATE = /^(0800[0-46]|57P0[1-3]|53300)$/;

/**
 * What the Neon driver (pg underneath) and the WebSocket transport say when there is no
 * connection: refused or reset sockets, a connect timeout, a connection that ended mid-query, a
 * query that got no answer within the query timeout.
 */
const OUTAGE_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|query read timeout|Client was closed and is not queryable|ECONNREFUSED|ECONNRESET|socket hang up|Client has encountered a connection error|Connection ended|database system is (starting up|shutting down)/i;

function matchesOutage(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const code = (value as { code?: unknown }).code;
  if (typeof code === 'string' && (OUTAGE_SQLSTATE.test(code) || code === 'ECONNREFUSED' || code === 'ECONNRESET')) {
    return true;
  }
  // A WebSocket 'error' event thrown as is (not an Error) by the transport.
  if ((value as { type?: unknown }).type === 'error' && !(value instanceof Error)) return true;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' && OUTAGE_MESSAGE.test(message);
}
