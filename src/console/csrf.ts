import type { Context } from 'hono';
import { isConsoleCsrfToken } from '../crypto/console-csrf.ts';
import type { AppEnv } from '../http/context.ts';
import type { ConsoleOperator } from './gate.ts';

/**
 * Whether a console POST may change anything: it comes from this origin and carries this
 * session's CSRF token. Same origin means `Sec-Fetch-Site: same-origin`, or, from a browser that
 * sends no Sec-Fetch-Site, an `Origin` equal to the gateway's; a request with neither is refused
 * (stricter than the landing's sign-out, which lets a request without Origin through: a sign-out
 * only takes away, a console POST grants). The token then binds the form to the operator's session.
 */
export async function isAcceptedConsolePost(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  form: URLSearchParams,
): Promise<boolean> {
  if (!isSameOrigin(c.req.header('Sec-Fetch-Site'), c.req.header('Origin'), c.req.url)) return false;
  const { config } = c.var;
  return isConsoleCsrfToken(
    form.get('csrf'),
    operator.sessionId,
    config.SESSION_SECRET,
    config.SESSION_SECRET_PREVIOUS,
  );
}

export function isSameOrigin(fetchSite: string | undefined, origin: string | undefined, url: string): boolean {
  if (fetchSite !== undefined) return fetchSite === 'same-origin';
  return origin !== undefined && origin === new URL(url).origin;
}
