import { html } from 'hono/html';
import type { ConsoleStatus } from '../console/status.ts';
import { GITHUB_ID_PATTERN } from '../validation/github-identity.ts';
import type { Branding } from './branding.ts';
import type { Page } from './layout.ts';

/** The console's paths (docs/api.md, "The gateway's own pages"). */
export const CONSOLE_PATHS = {
  root: '/console',
  people: '/console/people',
  letIn: '/console/people/let-in',
  dismiss: '/console/people/dismiss',
  signOut: '/console/people/sign-out',
  operator: '/console/people/operator',
  addRule: '/console/rules/add',
  removeRule: '/console/rules/remove',
  services: '/console/services',
  register: '/console/services/register',
  rotateKey: '/console/services/rotate-key',
  serviceState: '/console/services/state',
  rename: '/console/services/rename',
  editService: '/console/services/edit',
  deleteService: '/console/services/delete',
  audit: '/console/audit',
} as const;

/** The operator a console page is for, the CSRF token its forms carry, and the status line. */
export interface ConsoleViewer {
  login: string | null;
  csrfToken: string;
  status: ConsoleStatus;
}

type Section = 'people' | 'services' | 'audit';

const SECTIONS: [Section, string, string][] = [
  ['people', 'People', CONSOLE_PATHS.people],
  ['services', 'Services', CONSOLE_PATHS.services],
  ['audit', 'Audit', CONSOLE_PATHS.audit],
];

/**
 * The console's pages: the pages' head (stylesheet, local-time script, no inline anything), a
 * nav, the operator, and the status line. `scripts` are further scripts from /assets (the copy
 * button), never inline.
 */
export function consoleLayout(
  branding: Branding,
  viewer: ConsoleViewer,
  section: Section,
  title: string,
  body: Page,
  scripts: string[] = [],
): Page {
  const logo = branding.logoUrl ? html`<img src="${branding.logoUrl}" alt="" height="32">` : '';
  const nav = SECTIONS.map(
    ([each, label, path]) => html`<a href="${path}"${each === section ? html` aria-current="page"` : ''}>${label}</a> `,
  );
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
${scripts.map((src) => html`<script src="${src}" defer></script>\n`)}</head>
<body class="console">
<header class="site"><a class="home" href="/">${logo}${branding.name}</a>
<nav aria-label="Console">${nav}</nav>
<p class="viewer">Operator: <strong>${viewer.login ?? 'you'}</strong></p>
${statusLine(viewer.status)}</header>
<main>
${body}
</main>
</body>
</html>`;
}

/** One line of facts: the database, its migrations, the last audit write, failing events. */
function statusLine(status: ConsoleStatus) {
  if (!status.reachable)
    return html`<ul class="status" aria-label="Gateway status"><li class="bad">Database: not reachable</li></ul>`;
  const migrations = migrationsText(status.migrations);
  const audit = status.lastAuditAt ? html`Last audit write: ${when(status.lastAuditAt)}` : 'Last audit write: none yet';
  const events =
    status.failingServices.length === 0
      ? html`<li>Events: none failing</li>`
      : html`<li class="bad">Events failing for over an hour: ${status.failingServices.join(', ')}</li>`;
  return html`<ul class="status" aria-label="Gateway status"><li>Database: reachable</li><li${status.migrations.kind === 'up_to_date' ? '' : html` class="bad"`}>${migrations}</li><li>${audit}</li>${events}</ul>`;
}

function migrationsText(state: Extract<ConsoleStatus, { reachable: true }>['migrations']): string {
  switch (state.kind) {
    case 'up_to_date':
      return 'Migrations: up to date';
    case 'behind':
      return `Migrations: behind (latest applied ${state.latestApplied ?? 'none'}; run gateway db migrate)`;
    case 'failed':
      return `Migrations: ${state.name} failed (gateway db status)`;
    case 'ahead':
      return `Migrations: the database has ${state.latestApplied}, newer than this deploy`;
  }
}

/** What the last POST did, shown once on the page it redirected (303) to; null: nothing. */
export function flashLine(text: Page | null) {
  if (!text) return '';
  return html`<p class="notice" role="status">${text}</p>
`;
}

/** The CSRF field every console form carries. */
export function csrfField(csrfToken: string) {
  return html`<input type="hidden" name="csrf" value="${csrfToken}">`;
}

/** A form of one button posting hidden fields (and the CSRF token). */
export function buttonForm(
  action: string,
  csrfToken: string,
  fields: Record<string, string>,
  label: string,
  secondary = false,
) {
  const hidden = Object.entries(fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  return html`<form method="post" action="${action}">${csrfField(csrfToken)}${hidden}<button type="submit"${secondary ? html` class="secondary"` : ''}>${label}</button></form>`;
}

/**
 * GitHub's avatar of the person, by their numeric id (never a login, which can move to someone
 * else). The pages' CSP allows exactly that origin for images (src/pages/layout.ts). Decorative:
 * the login is written next to it.
 */
export function avatar(githubId: string) {
  if (!GITHUB_ID_PATTERN.test(githubId)) return '';
  return html`<img class="avatar" src="https://avatars.githubusercontent.com/u/${githubId}?s=64" alt="" width="32" height="32">`;
}

export function when(moment: Date) {
  const utc = `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${moment.toISOString()}" title="${utc}">${utc}</time>`;
}

/** A console change refused (its input, or the state it met): nothing changed; the message says why. */
export function consoleErrorPage(
  branding: Branding,
  viewer: ConsoleViewer,
  section: Section,
  message: string,
  code: string,
): Page {
  const back = SECTIONS.find(([each]) => each === section)?.[2] ?? CONSOLE_PATHS.root;
  return consoleLayout(
    branding,
    viewer,
    section,
    'Not done',
    html`<h1>Not done</h1>
<p role="alert">${message}</p>
<p class="code">Error code: ${code}</p>
<p><a href="${back}">Back</a></p>`,
  );
}
