import type { MiddlewareHandler } from 'hono';
import type * as z from 'zod';
import type { AppEnv } from './context.ts';
import { invalidInput } from './invalid-input.ts';
import { readJsonBody } from './json-body.ts';

/**
 * A declared route's JSON body, read by `readJsonBody` (the one body reader: 415, the size limit,
 * strict UTF-8, `invalid_json`, `invalid_body`) and handed to the handler as `c.req.valid('json')`.
 */
export function jsonBodyInput(schema: z.ZodType): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.req.addValidatedData('json', (await readJsonBody(c, schema)) as object);
    await next();
  };
}

/**
 * A declared route's query, validated as `c.req.query()` reads it (the first value of a repeated
 * name) and handed to the handler as `c.req.valid('query')`; `400 invalid_query` when it does not fit.
 */
export function queryInput(schema: z.ZodType): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const result = schema.safeParse(c.req.query());
    if (!result.success) throw invalidInput('query', result.error);
    c.req.addValidatedData('query', result.data as object);
    await next();
  };
}

/** A declared route's path parameters, handed to the handler as `c.req.valid('param')`; `400 invalid_path` when they do not fit. */
export function paramsInput(schema: z.ZodType): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const result = schema.safeParse(c.req.param());
    if (!result.success) throw invalidInput('param', result.error);
    c.req.addValidatedData('param', result.data as object);
    await next();
  };
}
