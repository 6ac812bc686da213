import type * as z from 'zod';
import { GatewayError } from '../errors/gateway-error.ts';
import { firstIssue } from '../validation/zod-issues.ts';

/** Where a declared route's input comes from (Hono's names, as in `c.req.valid(target)`). */
export type InputTarget = 'json' | 'query' | 'param';

/** The error code and the name of the whole value, by where the input came from. */
const TARGETS: Record<InputTarget, { code: string; whole: string }> = {
  json: { code: 'invalid_body', whole: 'body' },
  query: { code: 'invalid_query', whole: 'query' },
  param: { code: 'invalid_path', whole: 'path' },
};

/** Input that does not fit its schema: 400 `invalid_body` / `invalid_query` / `invalid_path`, naming the first bad field. */
export function invalidInput(target: InputTarget, error: z.ZodError): GatewayError {
  const { code, whole } = TARGETS[target];
  return new GatewayError(code, 'input', firstIssue(error, whole));
}
