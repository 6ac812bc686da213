import type { Context } from 'hono';
import { GatewayError } from '../errors/gateway-error.ts';
import { readAtMost } from './json-body.ts';

/** The pages' forms carry a field or two; nothing a person sends needs more. */
export const MAX_FORM_BODY_BYTES = 2 * 1024;

/** A page's form that could not be read (too large, cut off): the person goes back and tries again. */
export class FormError extends GatewayError {}

/**
 * The fields of a page's own form (`application/x-www-form-urlencoded`), read with a size limit.
 * Any other body counts as an empty form: the route then does what the plain button does.
 */
export async function readSmallForm(c: Context): Promise<URLSearchParams> {
  const type = c.req.header('Content-Type') ?? '';
  if (!/^application\/x-www-form-urlencoded(\s*;.*)?$/i.test(type)) return new URLSearchParams();
  const bytes = await readAtMost(c.req.raw.body, MAX_FORM_BODY_BYTES).catch((error: unknown) => {
    if (error instanceof GatewayError)
      throw new FormError(error.code, error.kind, 'Go back to the page and try again.', { cause: error });
    throw error;
  });
  return new URLSearchParams(new TextDecoder().decode(bytes));
}
