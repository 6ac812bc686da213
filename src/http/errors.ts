import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The error every handler throws; the error handler turns it into `{ error: { code, message } }`. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: ContentfulStatusCode, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** An error a person sees in the browser: rendered as the HTML error page instead of JSON. */
export class PageError extends ApiError {
  readonly title: string;

  constructor(status: ContentfulStatusCode, code: string, title: string, message: string) {
    super(status, code, message);
    this.name = 'PageError';
    this.title = title;
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
