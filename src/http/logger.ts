export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/**
 * One JSON line per event, so Workers Logs can filter on fields. Callers pass names, codes and
 * counts; never a secret, token or key (docs/security.md).
 */
export function createLogger(base: Record<string, unknown>, minimum: LogLevel = 'info'): Logger {
  const emit = (level: LogLevel, event: string, fields?: Record<string, unknown>) => {
    if (rank[level] < rank[minimum]) return;
    const line = JSON.stringify({ level, event, ...base, ...fields });
    if (level === 'error') console.error(line);
    else if (level === 'warn') console.warn(line);
    else console.log(line);
  };
  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

/**
 * An error as it may be logged: name and message, and for a failed query the database's own
 * message and SQLSTATE instead of drizzle's, which repeats the SQL with its parameter values.
 */
export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'NonError', message: String(error) };
  if (error.message.startsWith('Failed query')) {
    // drizzle's message carries the SQL and its parameters (key hashes, addresses, user agents):
    // only the driver's cause is told, read by shape (a driver's error may come from another realm).
    const cause = (error as { cause?: unknown }).cause as { name?: unknown; message?: unknown; code?: unknown } | null;
    if (typeof cause === 'object' && cause !== null && typeof cause.message === 'string') {
      const name = typeof cause.name === 'string' ? cause.name : 'Error';
      return { name, message: cause.message, ...(typeof cause.code === 'string' ? { code: cause.code } : {}) };
    }
    return { name: error.name, message: 'Failed query (its text and parameters are not logged)' };
  }
  return { name: error.name, message: error.message };
}
