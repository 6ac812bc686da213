import type { Context } from 'hono';
import type * as z from 'zod';
import { GatewayError } from '../errors/gateway-error.ts';
import { invalidInput } from './invalid-input.ts';

/** The largest JSON body a service endpoint reads. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/**
 * Reads and validates a JSON body: 415 for another content type, 413 when too large, 400 for
 * invalid JSON or a body that does not fit the schema (naming the first field that does not).
 */
export async function readJsonBody<Schema extends z.ZodType>(c: Context, schema: Schema): Promise<z.infer<Schema>> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^application\/json(\s*;.*)?$/i.test(type)) {
    throw new GatewayError(
      'unsupported_media_type',
      'unsupported_media_type',
      'Send the body as JSON with `Content-Type: application/json`.',
    );
  }
  const declared = Number(c.req.header('Content-Length') ?? '0');
  if (declared > MAX_JSON_BODY_BYTES) throw tooLarge(MAX_JSON_BODY_BYTES);
  const bytes = await readAtMost(c.req.raw.body, MAX_JSON_BODY_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new GatewayError('invalid_json', 'input', 'The body is not valid JSON (UTF-8).');
  }
  const result = schema.safeParse(value);
  if (!result.success) throw invalidInput('json', result.error);
  return result.data;
}

/**
 * The body's bytes (JSON bodies here, the pages' small forms in form-body.ts), stopping (and cancelling the upload) as soon as it passes `limit`: a body
 * sent without Content-Length, or one that never ends, costs at most `limit` bytes of memory.
 */
export async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
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
