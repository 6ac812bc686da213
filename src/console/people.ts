import type { Context } from 'hono';
import { html } from 'hono/html';
import { membershipBounds } from '../admission/bounds.ts';
import { allowByRule, listRules, removeRule } from '../admission/manage-rules.ts';
import { describeRule, parseRuleTarget } from '../admission/rule.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { lockPersonByGitHubId } from '../db/person-by-github-id.ts';
import { findServiceSummaryByIdentifier } from '../db/services.ts';
import { deliverAfterResponse } from '../events/start-delivery.ts';
import type { AppEnv } from '../http/context.ts';
import { brandingOf } from '../pages/branding.ts';
import { CONSOLE_PATHS, consolePeoplePage } from '../pages/console.ts';
import type { Page } from '../pages/layout.ts';
import { newAdmissionRule, ruleIdParams, storableText } from '../routes/admin.routes.ts';
import { signPersonOutEverywhere, signPersonOutOfService } from '../sign-in/sign-out.ts';
import { listPeople, type Person } from '../users/list-people.ts';
import { operatorsAmong, setOperatorGrant } from '../users/operator-grant.ts';
import { dismissPendingSignUp, listPendingSignUps } from '../users/pending-sign-ups.ts';
import { setWhitelisted } from '../users/whitelist.ts';
import { GITHUB_ID_PATTERN } from '../validation/github-identity.ts';
import { flashRedirect, signedFlash } from './flash.ts';
import type { ConsoleOperator } from './gate.ts';
import { forgetOperatorGrant } from './gate.ts';
import { type ConsoleHandler, consoleOrigin, consolePost, parseWith, refuse, single, viewerOf } from './handler.ts';

/** How many people each list of the People page shows; the command lists the rest. */
const PEOPLE_SHOWN = 100;

type ListedPerson = Person & { operator: boolean };

export const peoplePage: ConsoleHandler = async (c, operator) => {
  const { config } = c.var;
  const db = c.var.database();
  const bounds = membershipBounds(config);
  const now = new Date();
  const pending = await listPendingSignUps(db, bounds, PEOPLE_SHOWN, now);
  const all = await listPeople(db, { pending: false, limit: PEOPLE_SHOWN }, bounds, now);
  const pendingIds = new Set(pending.pending.map((each) => each.person.id));
  const others = all.people.filter((person) => !pendingIds.has(person.id));
  const operators = await operatorsAmong(
    db,
    others.map((person) => person.id),
  );
  const everyone = others.map((person) => ({ ...person, operator: operators.has(person.id) }));
  const rules = await listRules(db);
  return c.html(
    consolePeoplePage(brandingOf(config), await viewerOf(c, operator), {
      pending: pending.pending,
      morePending: pending.more,
      everyone,
      moreEveryone: all.nextCursor !== null,
      rules,
      flash: flashOf(
        await signedFlash(c, operator),
        everyone,
        rules.map((rule) => rule.id),
      ),
    }),
  );
};

/**
 * The one line after a POST's 303 (`?done=<kind>&github_id=<id>`, or `&rule_id=`), said only when
 * the console signed it for this session (src/console/flash.ts) and the lists agree with it: a
 * link made elsewhere cannot make the page claim a change that did not happen.
 */
function flashOf(query: URLSearchParams | null, everyone: ListedPerson[], liveRuleIds: string[]): Page | null {
  const done = query?.get('done');
  if (!query || !done) return null;
  const ruleId = query.get('rule_id') ?? '';
  if (done === 'rule_removed' && UUID_PATTERN.test(ruleId) && !liveRuleIds.includes(ruleId))
    return html`The rule is removed: the people it admitted are refused from their next check.`;
  if ((done === 'rule_added' || done === 'rule_exists') && liveRuleIds.includes(ruleId))
    return done === 'rule_added' ? html`The rule is added.` : html`That rule was already there; nothing changed.`;
  const githubId = query.get('github_id') ?? '';
  if (!GITHUB_ID_PATTERN.test(githubId)) return null;
  if (done === 'not_found') return html`No one with GitHub id ${githubId} has signed in.`;
  const person = everyone.find((each) => each.githubId === githubId);
  if (!person) return null;
  const login = html`<strong>${person.login ?? `GitHub id ${githubId}`}</strong>`;
  const admitted = person.admittedBy !== null;
  const service = query.get('service') ?? '';
  const liveAt = (at: string | null) => person.sessions.some((each) => each.service === at && each.live > 0);
  switch (done) {
    case 'let_in':
      return admitted ? html`${login} is let in.` : null;
    case 'already_in':
      return admitted ? html`${login} was already let in; nothing changed.` : null;
    // Dismissed: no longer in the pending list, so listed with everyone else.
    case 'dismissed':
      return admitted ? null : html`${login} is dismissed until they sign in again.`;
    case 'signed_out_service':
      return service && !liveAt(service) ? html`${login} is signed out of ${service}.` : null;
    case 'signed_out_everywhere':
      return person.sessions.every((each) => each.live === 0)
        ? html`${login} is signed out of every service and of this gateway.`
        : null;
    case 'operator_granted':
      return person.operator ? html`${login} may use the console now.` : null;
    case 'operator_revoked':
      return person.operator ? null : html`${login} may no longer use the console.`;
    default:
      return null;
  }
}

function peopleDone(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  done: string,
  fields: Record<string, string>,
): Promise<{ redirect: string }> {
  return flashRedirect(c, operator, CONSOLE_PATHS.people, { done, ...fields });
}

type PersonChange = (
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  githubId: string,
  form: URLSearchParams,
) => Promise<{ redirect: string }>;

/** A POST about one person (`github_id`, digits): an unknown one says so on the page it 303s to. */
function aboutPerson(change: PersonChange): ConsoleHandler {
  return consolePost('people', async (c, operator, form) => {
    const githubId = single(form, 'github_id') ?? '';
    if (!GITHUB_ID_PATTERN.test(githubId)) return peopleDone(c, operator, 'not_found', { github_id: '0' });
    return change(c, operator, githubId, form);
  });
}

/** "Let in": the whitelist, as `gateway users whitelist --github-id` does, recorded with the operator as actor. */
export const letIn = aboutPerson(async (c, operator, githubId) => {
  // By GitHub id, never ambiguous (a login may be).
  const changed = await setWhitelisted(c.var.database(), { githubId }, true, consoleOrigin(c, operator));
  if (!changed) return peopleDone(c, operator, 'not_found', { github_id: githubId });
  return peopleDone(c, operator, changed.changed ? 'let_in' : 'already_in', { github_id: githubId });
});

export const dismiss = aboutPerson(async (c, operator, githubId) => {
  const dismissed = await dismissPendingSignUp(c.var.database(), githubId, consoleOrigin(c, operator));
  return peopleDone(c, operator, dismissed ? 'dismissed' : 'not_found', { github_id: githubId });
});

/**
 * "Sign X out of <service>" (`service`, its id) or "everywhere" (`everywhere=1`): the very
 * revocation of the person's own sign-out (src/sign-in/sign-out.ts), its events delivered after
 * the response, recorded with the operator as actor.
 */
export const signPersonOut = aboutPerson(async (c, operator, githubId, form) => {
  const db = c.var.database();
  // Outside a transaction the row lock ends with the statement: this only finds the person.
  const person = await lockPersonByGitHubId(db, githubId);
  if (!person) return peopleDone(c, operator, 'not_found', { github_id: githubId });
  const deps = {
    db,
    standingAccessSeconds: c.var.config.STANDING_ACCESS_SECONDS,
    origin: () => consoleOrigin(c, operator),
    deliver: (eventIds: string[]) => deliverAfterResponse(c, eventIds),
    endedBy: 'operator' as const,
  };
  const service = parseWith(storableText(100).optional(), single(form, 'service'));
  if (single(form, 'everywhere') === '1' && service === undefined) {
    await signPersonOutEverywhere(deps, person.id);
    return peopleDone(c, operator, 'signed_out_everywhere', { github_id: githubId });
  }
  if (service === undefined) refuse('invalid_body', 'Say which service to sign them out of, or everywhere.');
  const found = await findServiceSummaryByIdentifier(db, service);
  if (!found) refuse('unknown_service', `There is no service "${service}".`);
  await signPersonOutOfService(deps, person.id, found.id);
  return peopleDone(c, operator, 'signed_out_service', { github_id: githubId, service });
});

/**
 * "Make X an operator" / "Remove X's console access" (`grant=true|false`), as `gateway users
 * grant-operator --github-id` does. This isolate forgets its cached grant at once; the others
 * within VERIFY_CACHE_SECONDS.
 */
export const changeOperatorGrant = aboutPerson(async (c, operator, githubId, form) => {
  const grant = single(form, 'grant');
  if (grant !== 'true' && grant !== 'false') refuse('invalid_body', 'grant: true or false.');
  const changed = await setOperatorGrant(c.var.database(), { githubId }, grant === 'true', consoleOrigin(c, operator));
  if (!changed) return peopleDone(c, operator, 'not_found', { github_id: githubId });
  forgetOperatorGrant(changed.id);
  return peopleDone(c, operator, grant === 'true' ? 'operator_granted' : 'operator_revoked', { github_id: githubId });
});

/** "Add the rule": `kind` (org, team, login) and `target`, through the admin API's schema and GitHub's lookups. */
export const addRule = consolePost('people', async (c, operator, form) => {
  const kind = single(form, 'kind') ?? '';
  const target = (single(form, 'target') ?? '').trim();
  if (kind !== 'org' && kind !== 'team' && kind !== 'login') refuse('invalid_body', 'kind: org, team or login.');
  const body = parseWith(newAdmissionRule, { [kind]: target });
  const github = { apiUrl: c.var.config.GITHUB_API_URL, oauthUrl: c.var.config.GITHUB_OAUTH_URL };
  const { rule, made } = await allowByRule(
    { db: c.var.database(), github },
    parseRuleTarget(body),
    consoleOrigin(c, operator),
  );
  return peopleDone(c, operator, made ? 'rule_added' : 'rule_exists', { rule_id: rule.id, admits: describeRule(rule) });
});

/** "Remove the rule admitting …": by its id, kept for the record. */
export const removeRuleByConsole = consolePost('people', async (c, operator, form) => {
  const { id } = parseWith(ruleIdParams, { id: single(form, 'rule_id') });
  const rule = await removeRule(c.var.database(), { id }, consoleOrigin(c, operator));
  return peopleDone(c, operator, 'rule_removed', { rule_id: rule.id });
});
