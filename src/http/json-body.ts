import type { Context } from 'hono';
import type * as z from 'zod';
import { ApiError } from './errors.ts';

/** The largest JSON body a service endpoint reads. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/**
 * Reads and validates a JSON body: 415 for another content type, 413 when too large, 400 for
 * invalid JSON or a body that does not fit the schema (naming the first field that does not).
 */
export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^application\/json(\s*;.*)?$/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as JSON with `Content-Type: application/json`.');
  }
  const declared = Number(c.req.header('Content-Length') ?? '0');
  if (declared > MAX_JSON_BODY_BYTES) throw tooLarge();
  const text = await c.req.text();
  if (new TextEncoder().encode(text).length > MAX_JSON_BODY_BYTES) throw tooLarge();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new ApiError(400, 'invalid_body', `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function tooLarge(): ApiError {
  return new ApiError(413, 'payload_too_large', `The body is larger than ${MAX_JSON_BODY_BYTES} bytes.`);
}
