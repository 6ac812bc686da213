import { type Context, Hono } from 'hono';
import { membershipBounds } from '../admission/bounds.ts';
import { browserOrigin } from '../changes/http-origin.ts';
import { isAcceptedConsolePost } from '../console/csrf.ts';
import { type ConsoleOperator, consoleOperator } from '../console/gate.ts';
import { consoleCsrfToken } from '../crypto/console-csrf.ts';
import type { AppEnv } from '../http/context.ts';
import { readSmallForm } from '../http/form-body.ts';
import { brandingOf } from '../pages/branding.ts';
import { CONSOLE_PATHS, consolePeoplePage, consoleRefusedPage, type PeopleFlash } from '../pages/console.ts';
import { listPeople, type Person } from '../users/list-people.ts';
import { dismissPendingSignUp, listPendingSignUps } from '../users/pending-sign-ups.ts';
import { setWhitelisted } from '../users/whitelist.ts';
import { GITHUB_ID_PATTERN } from '../validation/github-identity.ts';
import { pageErrorHandler } from './page-errors.ts';

/** How many people each list of the People page shows; the command lists the rest. */
const PEOPLE_SHOWN = 100;

type ConsoleHandler = (c: Context<AppEnv>, operator: ConsoleOperator) => Promise<Response>;

/** The console's pages, by method and path: looked up only once the gate has let the operator in. */
const CONSOLE_PAGES: Record<string, ConsoleHandler> = {
  [`GET ${CONSOLE_PATHS.root}`]: async (c) => c.redirect(CONSOLE_PATHS.people, 302),
  [`GET ${CONSOLE_PATHS.people}`]: peoplePage,
  [`POST ${CONSOLE_PATHS.letIn}`]: (c, operator) => changePerson(c, operator, letIn),
  [`POST ${CONSOLE_PATHS.dismiss}`]: (c, operator) => changePerson(c, operator, dismiss),
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

async function peoplePage(c: Context<AppEnv>, operator: ConsoleOperator): Promise<Response> {
  const { config } = c.var;
  const db = c.var.database();
  const bounds = membershipBounds(config);
  const now = new Date();
  const pending = await listPendingSignUps(db, bounds, PEOPLE_SHOWN, now);
  const all = await listPeople(db, { pending: false, limit: PEOPLE_SHOWN }, bounds, now);
  const pendingIds = new Set(pending.pending.map((each) => each.person.id));
  const everyone = all.people.filter((person) => !pendingIds.has(person.id));
  const csrfToken = await consoleCsrfToken(operator.sessionId, config.SESSION_SECRET);
  return c.html(
    consolePeoplePage(
      brandingOf(config),
      { login: operator.login, csrfToken },
      {
        pending: pending.pending,
        morePending: pending.more,
        everyone,
        moreEveryone: all.nextCursor !== null,
        flash: flashOf(c, everyone),
      },
    ),
  );
}

/**
 * The one line after a POST's 303 (`?done=<kind>&github_id=<id>`), said only when the lists agree
 * with it: a link made elsewhere cannot make the page claim a change that did not happen.
 */
function flashOf(c: Context<AppEnv>, everyone: Person[]): PeopleFlash {
  const done = c.req.query('done');
  const githubId = c.req.query('github_id') ?? '';
  if (!done || !GITHUB_ID_PATTERN.test(githubId)) return null;
  if (done === 'not_found') return { kind: 'not_found', githubId };
  const person = everyone.find((each) => each.githubId === githubId);
  const login = person?.login ?? `GitHub id ${githubId}`;
  if ((done === 'let_in' || done === 'already_in') && person && person.admittedBy !== null)
    return { kind: done, login };
  // Dismissed: no longer in the pending list, so listed with everyone else.
  if (done === 'dismissed' && person && person.admittedBy === null) return { kind: 'dismissed', login };
  return null;
}

type PersonChange = (c: Context<AppEnv>, operator: ConsoleOperator, githubId: string) => Promise<string>;

/**
 * A POST about one person (`github_id`): refused with a 403 page, changing nothing, unless it
 * passes the CSRF checks; then done, and 303 back to the People page (a reload does not post again).
 */
async function changePerson(c: Context<AppEnv>, operator: ConsoleOperator, change: PersonChange): Promise<Response> {
  const form = await readSmallForm(c);
  if (!(await isAcceptedConsolePost(c, operator, form)))
    return c.html(consoleRefusedPage(brandingOf(c.var.config)), 403);
  const githubId = form.get('github_id') ?? '';
  const done = GITHUB_ID_PATTERN.test(githubId) ? await change(c, operator, githubId) : 'not_found';
  const query = new URLSearchParams({ done, github_id: GITHUB_ID_PATTERN.test(githubId) ? githubId : '0' });
  return c.redirect(`${CONSOLE_PATHS.people}?${query}`, 303);
}

/** "Let in": the whitelist, as `gateway users whitelist --github-id` does, recorded with the operator as actor. */
const letIn: PersonChange = async (c, operator, githubId) => {
  // By GitHub id, never ambiguous (a login may be).
  const changed = await setWhitelisted(c.var.database(), { githubId }, true, browserOrigin(c, operator.userId));
  if (!changed) return 'not_found';
  return changed.changed ? 'let_in' : 'already_in';
};

const dismiss: PersonChange = async (c, operator, githubId) => {
  const dismissed = await dismissPendingSignUp(c.var.database(), githubId, browserOrigin(c, operator.userId));
  return dismissed ? 'dismissed' : 'not_found';
};
