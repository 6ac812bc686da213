import type { ValidationTargets } from 'hono';
import type * as z from 'zod';
import { ApiError } from './errors.ts';

/** The error code and the name of the whole value, by where the input came from. */
const TARGETS: Record<keyof ValidationTargets, { code: string; whole: string }> = {
  json: { code: 'invalid_body', whole: 'body' },
  form: { code: 'invalid_body', whole: 'body' },
  query: { code: 'invalid_query', whole: 'query' },
  param: { code: 'invalid_path', whole: 'path' },
  header: { code: 'invalid_header', whole: 'headers' },
  cookie: { code: 'invalid_cookie', whole: 'cookies' },
};

/** The first problem zod found, as `field: message` (the whole value's name when it is not one field). */
export function firstIssue(error: z.ZodError, whole: string): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || whole}: ${issue?.message ?? 'invalid'}`;
}

/** Input that does not fit its schema: 400 with `invalid_body` / `invalid_query` naming the first bad field. */
export function invalidInput(target: keyof ValidationTargets, error: z.ZodError): ApiError {
  const { code, whole } = TARGETS[target];
  return new ApiError(400, code, firstIssue(error, whole));
}

/**
 * The `defaultHook` of every declared router: a validation the library runs (path parameters)
 * fails with the gateway's own 400, never the library's default answer (zod's issues as JSON).
 */
export function answerInvalidInput(result: { target: keyof ValidationTargets; success: boolean; error?: z.ZodError }) {
  if (!result.success && result.error) throw invalidInput(result.target, result.error);
}
