import type { Context } from 'hono';
import type * as z from 'zod';
import { GatewayError } from '../errors/gateway-error.ts';
import { invalidInput } from './invalid-input.ts';

/** The largest JSON body a service endpoint reads. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;
/** One per isolate: a decode without `stream` keeps no state between calls, and making one costs more than using it. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads and validates a JSON body: 415 for another content type, 413 when too large, 400 for
 * invalid JSON or a body that does not fit the schema (naming the first field that does not).
 */
export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  const result = schema.safeParse(await jsonValueOf(c));
  if (!result.success) throw invalidInput('json', result.error);
  return result.data;
}

/** Each request's body, read once: a middleware may look at it before the route's validator does. */
const jsonValues = new WeakMap<Request, Promise<unknown>>();

/**
 * The request's JSON body, not yet validated (415, 413 and invalid JSON as `readJsonBody`
 * answers them). Read once per request: whoever asks again gets the same value or the same error.
 */
export function jsonValueOf(c: Context): Promise<unknown> {
  let value = jsonValues.get(c.req.raw);
  if (!value) {
    value = parseJsonBody(c);
    jsonValues.set(c.req.raw, value);
  }
  return value;
}

async function parseJsonBody(c: Context): Promise<unknown> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^application\/json(\s*;.*)?$/i.test(type)) {
    throw new GatewayError(
      'unsupported_media_type',
      'unsupported_media_type',
      'Send the body as JSON with `Content-Type: application/json`.',
    );
  }
  const declared = c.req.header('Content-Length');
  if (Number(declared ?? '0') > MAX_JSON_BODY_BYTES) throw tooLarge(MAX_JSON_BODY_BYTES);
  const length = declared !== undefined && /^\d{1,9}$/.test(declared) ? Number(declared) : undefined;
  const bytes = await readAtMost(c.req.raw.body, MAX_JSON_BODY_BYTES, length);
  try {
    return JSON.parse(STRICT_UTF8.decode(bytes));
  } catch {
    throw new GatewayError('invalid_json', 'input', 'The body is not valid JSON (UTF-8).');
  }
}

/**
 * The body's bytes (JSON bodies here, the pages' small forms in form-body.ts), stopping (and cancelling the upload) as soon as it passes `limit`: a body
 * sent without Content-Length, or one that never ends, costs at most `limit` bytes of memory.
 * With `declaredLength` (the request's Content-Length), reading stops once that many bytes have
 * come, without one more read to see the end (what HTTP's framing says the body is; a Request made
 * in code may carry more, which is not read).
 */
export async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  declaredLength?: number,
): Promise<Uint8Array> {
  if (!body || declaredLength === 0) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total !== declaredLength) {
    const { done, value } = await reader.read().catch(() => {
      // The client went away mid-upload: its request, not the gateway, is at fault.
      throw new GatewayError('invalid_json', 'input', 'The body ended before it was complete.');
    });
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  reader.releaseLock();
  // Most bodies arrive in one chunk: that one is the body, with no copy.
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError('payload_too_large', 'too_large', `The body is larger than ${limit} bytes.`);
}
