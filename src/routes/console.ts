import { type Context, Hono } from 'hono';
import { auditPage } from '../console/audit.ts';
import { consoleOperator } from '../console/gate.ts';
import type { ConsoleHandler } from '../console/handler.ts';
import {
  addRule,
  changeOperatorGrant,
  dismiss,
  letIn,
  peoplePage,
  removeRuleByConsole,
  signPersonOut,
} from '../console/people.ts';
import {
  changeState,
  confirmDelete,
  editService,
  register,
  removeService,
  rename,
  rotateKey,
  servicesPage,
} from '../console/services.ts';
import type { AppEnv } from '../http/context.ts';
import { CONSOLE_PATHS } from '../pages/console-layout.ts';
import { pageErrorHandler } from './page-errors.ts';

/** The console's pages, by method and path: looked up only once the gate has let the operator in. */
const CONSOLE_PAGES: Record<string, ConsoleHandler> = {
  [`GET ${CONSOLE_PATHS.root}`]: async (c) => c.redirect(CONSOLE_PATHS.people, 302),
  [`GET ${CONSOLE_PATHS.people}`]: peoplePage,
  [`POST ${CONSOLE_PATHS.letIn}`]: letIn,
  [`POST ${CONSOLE_PATHS.dismiss}`]: dismiss,
  [`POST ${CONSOLE_PATHS.signOut}`]: signPersonOut,
  [`POST ${CONSOLE_PATHS.operator}`]: changeOperatorGrant,
  [`POST ${CONSOLE_PATHS.addRule}`]: addRule,
  [`POST ${CONSOLE_PATHS.removeRule}`]: removeRuleByConsole,
  [`GET ${CONSOLE_PATHS.services}`]: servicesPage,
  [`POST ${CONSOLE_PATHS.register}`]: register,
  [`POST ${CONSOLE_PATHS.rotateKey}`]: rotateKey,
  [`POST ${CONSOLE_PATHS.serviceState}`]: changeState,
  [`POST ${CONSOLE_PATHS.rename}`]: rename,
  [`POST ${CONSOLE_PATHS.editService}`]: editService,
  [`GET ${CONSOLE_PATHS.deleteService}`]: confirmDelete,
  [`POST ${CONSOLE_PATHS.deleteService}`]: removeService,
  [`GET ${CONSOLE_PATHS.audit}`]: auditPage,
};

/**
 * The operator console, under /console. Every method and path under it goes through the gate
 * first (src/console/gate.ts): anyone it does not let in gets exactly what an unknown path gets
 * (the app's not-found answer, c.notFound()), so nothing says the console exists. The routes are
 * `all` routes on purpose: a GET or POST route would make the app answer another method on its
 * path with a 405 naming the methods, to anyone. An operator asking for a path or method the
 * console does not have gets the same 404.
 */
export const consoleRoutes = new Hono<AppEnv>()
  .all(CONSOLE_PATHS.root, gated)
  .all(`${CONSOLE_PATHS.root}/*`, gated)
  .onError(pageErrorHandler);

async function gated(c: Context<AppEnv>): Promise<Response> {
  const operator = await consoleOperator(c);
  if (!operator) return c.notFound();
  // HEAD is answered as GET (Hono drops the body).
  const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
  const handler = CONSOLE_PAGES[`${method} ${c.req.path}`];
  if (!handler) return c.notFound();
  return handler(c, operator);
}
