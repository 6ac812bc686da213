import { html } from 'hono/html';
import type { AdmissionRefusal } from '../admission/decide.ts';
import type { Person } from '../users/list-people.ts';
import type { PendingSignUp } from '../users/pending-sign-ups.ts';
import { GITHUB_ID_PATTERN } from '../validation/github-identity.ts';
import type { Branding } from './branding.ts';
import type { Page } from './layout.ts';
import { errorPage } from './pages.ts';

/** The console's paths (docs/api.md, "The gateway's own pages"). */
export const CONSOLE_PATHS = {
  root: '/console',
  people: '/console/people',
  letIn: '/console/people/let-in',
  dismiss: '/console/people/dismiss',
} as const;

/** The operator a console page is for, and the CSRF token its forms carry. */
export interface ConsoleViewer {
  login: string | null;
  csrfToken: string;
}

/** The console's pages: the pages' head (stylesheet, local-time script, no inline anything), a nav, the operator. */
function consoleLayout(branding: Branding, viewer: ConsoleViewer, title: string, body: Page): Page {
  const logo = branding.logoUrl ? html`<img src="${branding.logoUrl}" alt="" height="32">` : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${title} · Console · ${branding.name}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/gateway.css">
<script src="/assets/local-time.js" defer></script>
</head>
<body class="console">
<header class="site"><a class="home" href="/">${logo}${branding.name}</a>
<nav aria-label="Console"><a href="${CONSOLE_PATHS.people}" aria-current="page">People</a></nav>
<p class="viewer">Operator: <strong>${viewer.login ?? 'you'}</strong></p></header>
<main>
${body}
</main>
</body>
</html>`;
}

/** What the last POST did, shown once on the page it redirected (303) to. */
export type PeopleFlash =
  | { kind: 'let_in'; login: string }
  | { kind: 'already_in'; login: string }
  | { kind: 'dismissed'; login: string }
  | { kind: 'not_found'; githubId: string }
  | null;

export interface PeoplePageInput {
  pending: PendingSignUp[];
  /** More pending people than the page shows. */
  morePending: boolean;
  everyone: Person[];
  moreEveryone: boolean;
  flash: PeopleFlash;
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
<thead><tr><th scope="col">Person</th><th scope="col">Admitted</th><th scope="col">Last sign-in</th><th scope="col">Live sessions</th></tr></thead>
<tbody>
${input.everyone.map(personRow)}</tbody>
</table></div>`;
  return consoleLayout(
    branding,
    viewer,
    'People',
    html`${flashLine(input.flash)}<h1>People</h1>
<h2 id="pending">Waiting to be let in</h2>
<p class="hint">People who signed in and whom nothing admits yet. “Let in” adds them to the whitelist; “Dismiss” hides them here until they sign in again.</p>
${pending}${input.morePending ? html`<p class="hint">More are waiting: <code>npx gateway users list --pending</code> lists them all.</p>` : ''}
<h2 id="everyone">Everyone else</h2>
${everyone}${input.moreEveryone ? html`<p class="hint">More people: <code>npx gateway users list</code> lists them all.</p>` : ''}`,
  );
}

function flashLine(flash: PeopleFlash) {
  if (!flash) return '';
  return html`<p class="notice" role="status">${flashText(flash)}</p>
`;
}

function flashText(flash: NonNullable<PeopleFlash>) {
  switch (flash.kind) {
    case 'let_in':
      return html`<strong>${flash.login}</strong> is let in.`;
    case 'already_in':
      return html`<strong>${flash.login}</strong> was already let in; nothing changed.`;
    case 'dismissed':
      return html`<strong>${flash.login}</strong> is dismissed until they sign in again.`;
    case 'not_found':
      return html`No one with GitHub id ${flash.githubId} has signed in.`;
  }
}

function pendingItem({ person, goingTo }: PendingSignUp, csrfToken: string) {
  const name = person.login ?? `GitHub id ${person.githubId}`;
  const destination = goingTo ? html`on the way to <strong>${goingTo}</strong>` : html`to this gateway`;
  const signedIn = person.lastSignInAt ? html`, signed in ${when(person.lastSignInAt)}` : '';
  return html`<li>${avatar(person.githubId)}<span class="who"><strong>${name}</strong> (GitHub id ${person.githubId})${signedIn}, ${destination}</span>
<form method="post" action="${CONSOLE_PATHS.letIn}">${hidden(csrfToken, person.githubId)}<button type="submit">Let in ${name}</button></form>
<form method="post" action="${CONSOLE_PATHS.dismiss}">${hidden(csrfToken, person.githubId)}<button type="submit" class="secondary">Dismiss ${name}</button></form></li>
`;
}

function hidden(csrfToken: string, githubId: string) {
  return html`<input type="hidden" name="csrf" value="${csrfToken}"><input type="hidden" name="github_id" value="${githubId}">`;
}

function personRow(person: Person) {
  const name = person.login ?? `GitHub id ${person.githubId}`;
  const live = person.sessions.reduce((sum, at) => sum + at.live, 0);
  return html`<tr><td>${avatar(person.githubId)}${name}</td><td>${admittedText(person)}</td><td>${person.lastSignInAt ? when(person.lastSignInAt) : 'unknown'}</td><td>${live}</td></tr>
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

/**
 * GitHub's avatar of the person, by their numeric id (never a login, which can move to someone
 * else). The pages' CSP allows exactly that origin for images (src/pages/layout.ts). Decorative:
 * the login is written next to it.
 */
function avatar(githubId: string) {
  if (!GITHUB_ID_PATTERN.test(githubId)) return '';
  return html`<img class="avatar" src="https://avatars.githubusercontent.com/u/${githubId}?s=64" alt="" width="32" height="32">`;
}

function when(moment: Date) {
  const utc = `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${moment.toISOString()}" title="${utc}">${utc}</time>`;
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
