import { html } from 'hono/html';
import type { AdmissionRefusal } from '../admission/decide.ts';
import { type AdmissionRule, describeRule } from '../admission/rule.ts';
import type { Person } from '../users/list-people.ts';
import type { PendingSignUp } from '../users/pending-sign-ups.ts';
import type { Branding } from './branding.ts';
import {
  avatar,
  buttonForm,
  CONSOLE_PATHS,
  type ConsoleViewer,
  consoleLayout,
  csrfField,
  flashLine,
  when,
} from './console-layout.ts';
import type { Page } from './layout.ts';
import { errorPage } from './pages.ts';

export { CONSOLE_PATHS, type ConsoleViewer } from './console-layout.ts';

export interface PeoplePageInput {
  pending: PendingSignUp[];
  /** More pending people than the page shows. */
  morePending: boolean;
  /** Everyone else, each with whether they hold the operator grant. */
  everyone: (Person & { operator: boolean })[];
  moreEveryone: boolean;
  rules: AdmissionRule[];
  /** The one line after a POST's 303, already checked against the lists. */
  flash: Page | null;
}

export function consolePeoplePage(branding: Branding, viewer: ConsoleViewer, input: PeoplePageInput): Page {
  const pending =
    input.pending.length === 0
      ? html`<p>No one is waiting to be let in.</p>`
      : html`<ul class="people">
${input.pending.map((each) => pendingItem(each, viewer.csrfToken))}</ul>`;
  const everyone =
    input.everyone.length === 0
      ? html`<p>No one else has signed in yet.</p>`
      : html`<div class="table"><table>
<caption>Everyone else who has signed in, newest sign-in first</caption>
<thead><tr><th scope="col">Person</th><th scope="col">Admitted</th><th scope="col">Last sign-in</th><th scope="col">Live sessions</th><th scope="col">Console</th></tr></thead>
<tbody>
${input.everyone.map((person) => personRow(person, viewer))}</tbody>
</table></div>`;
  return consoleLayout(
    branding,
    viewer,
    'people',
    'People',
    html`${flashLine(input.flash)}<h1>People</h1>
<h2 id="pending">Waiting to be let in</h2>
<p class="hint">People who signed in and whom nothing admits yet. “Let in” adds them to the whitelist; “Dismiss” hides them here until they sign in again.</p>
${pending}${input.morePending ? html`<p class="hint">More are waiting: <code>npx gateway users list --pending</code> lists them all.</p>` : ''}
<h2 id="everyone">Everyone else</h2>
${everyone}${input.moreEveryone ? html`<p class="hint">More people: <code>npx gateway users list</code> lists them all.</p>` : ''}
${rulesSection(input.rules, viewer.csrfToken)}`,
  );
}

function pendingItem({ person, goingTo }: PendingSignUp, csrfToken: string) {
  const name = person.login ?? `GitHub id ${person.githubId}`;
  const destination = goingTo ? html`on the way to <strong>${goingTo}</strong>` : html`to this gateway`;
  const signedIn = person.lastSignInAt ? html`, signed in ${when(person.lastSignInAt)}` : '';
  const who = { github_id: person.githubId };
  return html`<li>${avatar(person.githubId)}<span class="who"><strong>${name}</strong> (GitHub id ${person.githubId})${signedIn}, ${destination}</span>
${buttonForm(CONSOLE_PATHS.letIn, csrfToken, who, `Let in ${name}`)}
${buttonForm(CONSOLE_PATHS.dismiss, csrfToken, who, `Dismiss ${name}`, true)}</li>
`;
}

function personRow(person: Person & { operator: boolean }, viewer: ConsoleViewer) {
  const name = person.login ?? `GitHub id ${person.githubId}`;
  const who = { github_id: person.githubId };
  const live = person.sessions.filter((each) => each.live > 0);
  const sessions =
    live.length === 0
      ? 'none'
      : html`<ul class="live">${live.map(
          (each) =>
            html`<li>${each.service ?? 'this gateway'}: ${each.live}, until ${when(each.latestExpiresAt)}${
              each.service === null
                ? ''
                : buttonForm(
                    CONSOLE_PATHS.signOut,
                    viewer.csrfToken,
                    { ...who, service: each.service },
                    `Sign ${name} out of ${each.service}`,
                    true,
                  )
            }</li>`,
        )}</ul>${buttonForm(CONSOLE_PATHS.signOut, viewer.csrfToken, { ...who, everywhere: '1' }, `Sign ${name} out everywhere`, true)}`;
  const operator = person.operator
    ? html`Operator ${buttonForm(CONSOLE_PATHS.operator, viewer.csrfToken, { ...who, grant: 'false' }, `Remove ${name}’s console access`, true)}`
    : person.admittedBy === null
      ? 'No'
      : buttonForm(
          CONSOLE_PATHS.operator,
          viewer.csrfToken,
          { ...who, grant: 'true' },
          `Make ${name} an operator`,
          true,
        );
  return html`<tr><td>${avatar(person.githubId)}${name}</td><td>${admittedText(person)}</td><td>${person.lastSignInAt ? when(person.lastSignInAt) : 'unknown'}</td><td>${sessions}</td><td>${operator}</td></tr>
`;
}

const REFUSALS: Record<AdmissionRefusal, string> = {
  not_whitelisted: 'No: nothing admits them',
  not_a_member: 'No: not a member of an admitting organization or team',
  membership_unverified: 'No: membership not confirmed by GitHub lately',
};

function admittedText(person: Person): string {
  const by = person.admittedBy;
  if (by === null) return person.refusedCode ? REFUSALS[person.refusedCode] : 'No';
  if (by.kind === 'whitelist') return 'Yes: the whitelist';
  return `Yes: ${by.admits}`;
}

function rulesSection(rules: AdmissionRule[], csrfToken: string) {
  const list =
    rules.length === 0
      ? html`<p>No rules: only the whitelist admits people.</p>`
      : html`<div class="table"><table>
<caption>The live admission rules, oldest first</caption>
<thead><tr><th scope="col">Admits</th><th scope="col">Kind</th><th scope="col">Made by</th><th scope="col">Made</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
<tbody>
${rules.map(
  (rule) =>
    html`<tr><td>${describeRule(rule)}</td><td>${rule.kind}</td><td>${rule.createdBy}</td><td>${when(rule.createdAt)}</td><td>${buttonForm(CONSOLE_PATHS.removeRule, csrfToken, { rule_id: rule.id }, `Remove the rule admitting ${describeRule(rule)}`, true)}</td></tr>
`,
)}</tbody>
</table></div>`;
  return html`<h2 id="rules">Admission rules</h2>
<p class="hint">Besides the whitelist: the members of a GitHub organization or team, or one person by login (kept by GitHub id: a rename moves nothing).</p>
${list}
<form method="post" action="${CONSOLE_PATHS.addRule}" class="fields">${csrfField(csrfToken)}
<label for="rule-kind">Admit</label>
<select id="rule-kind" name="kind"><option value="org">the members of the organization</option><option value="team">the members of the team (ORG/TEAM-SLUG)</option><option value="login">the person with the login</option></select>
<label for="rule-target">Organization, team or login</label>
<input id="rule-target" name="target" required maxlength="140" autocomplete="off">
<button type="submit">Add the rule</button></form>`;
}

/** A console POST refused by its CSRF checks (HTTP 403): nothing was changed. */
export function consoleRefusedPage(branding: Branding): Page {
  return errorPage(
    branding,
    'Not done',
    'This form did not come from this console’s own page, or the page is too old. Nothing was changed; reload the console and try again.',
    'csrf_refused',
  );
}
