import type { Context } from 'hono';
import { consoleFlashSignature, isConsoleFlashSignature } from '../crypto/console-csrf.ts';
import type { AppEnv } from '../http/context.ts';
import type { ConsoleOperator } from './gate.ts';

/** The query field that carries a flash's signature. */
const SIGNATURE = 'sig';

/**
 * Where a console POST 303s to: `path?done=<kind>&<fields>&sig=<signature>`, the signature over
 * the query before it, bound to the operator's session (src/crypto/console-csrf.ts).
 */
export async function flashRedirect(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  path: string,
  fields: Record<string, string>,
): Promise<{ redirect: string }> {
  const query = new URLSearchParams(fields).toString();
  const signature = await consoleFlashSignature(operator.sessionId, query, c.var.config.SESSION_SECRET);
  return { redirect: `${path}?${query}&${SIGNATURE}=${signature}` };
}

/**
 * The flash fields of this page's query when the console itself made them for this session, else
 * null: a link someone made elsewhere (or sent from their own session) says nothing on the page,
 * whatever text it carries. The pages still check what it says against the database.
 */
export async function signedFlash(c: Context<AppEnv>, operator: ConsoleOperator): Promise<URLSearchParams | null> {
  const query = new URL(c.req.url).searchParams;
  const signatures = query.getAll(SIGNATURE);
  if (signatures.length !== 1) return null;
  query.delete(SIGNATURE);
  const { config } = c.var;
  const signed = await isConsoleFlashSignature(
    signatures[0] ?? null,
    operator.sessionId,
    query.toString(),
    config.SESSION_SECRET,
    config.SESSION_SECRET_PREVIOUS,
  );
  return signed ? query : null;
}
