import type { ServerResponse } from 'node:http';
import { GITHUB_LOGIN_PATTERN } from '../../../src/validation/github-identity.ts';
import type { MembershipState, StandInDirectory } from './stand-in-github-directory.ts';

/** The authorize request's fields each form of the authorize page carries back. */
const AUTHORIZE_FIELDS = ['client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method'];

/**
 * The login field's `pattern`: GitHub's login rule without its anchors (HTML anchors it itself).
 * Browsers compile a pattern with the `v` flag, where a `-` that is not a range must be escaped
 * even at the end of a class: `[A-Za-z0-9-]` is "Invalid character class" there, and Chromium
 * then switches the check off.
 */
export const LOGIN_INPUT_PATTERN = GITHUB_LOGIN_PATTERN.source.replace(/^\^|\$$/g, '').replaceAll('-]', '\\-]');

/** Shared look of the stand-in's pages: readable on a phone, light or dark as the system is. */
const HEAD = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<style>body{background:Canvas;color:CanvasText;font-family:system-ui,sans-serif;line-height:1.5;max-width:40rem;margin:0 auto;padding:1rem}
button,input{font:inherit;padding:.3rem .6rem}form{margin:1rem 0}ul{padding-left:1.2rem}a{color:#0969da}
@media (prefers-color-scheme:dark){a{color:#58a6ff}}</style>`;

/**
 * GitHub's authorize page, as the stand-in shows it: pick one of the offered people (with their
 * org and team memberships, so admission rules can be tried), type another login, or cancel.
 * Three forms, so pressing Enter in the login field submits that login, not the first button.
 */
export function authorizePage(
  directory: StandInDirectory,
  offered: readonly string[],
  params: URLSearchParams,
  response: ServerResponse,
): void {
  const hidden = AUTHORIZE_FIELDS.map(
    (name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name) ?? '')}">`,
  ).join('');
  const memberships = directory.listMemberships();
  const people = offered
    .map((login) => {
      const held = memberships
        .filter((m) => m.login.toLowerCase() === login.toLowerCase())
        .map(
          (m) => `${m.team ? `${m.org}/${m.team}` : m.org} (${m.state === 'active' ? `active ${m.role}` : 'pending'})`,
        );
      const note = held.length > 0 ? `in ${held.map(escapeHtml).join(', ')}` : 'in no organization';
      return `<li><button type="submit" name="login" value="${escapeHtml(login)}">Sign in as ${escapeHtml(login)}</button> <small>${note}</small></li>`;
    })
    .join('\n');
  const page = `<!doctype html><html lang="en"><head>${HEAD}<title>Stand-in GitHub: authorize</title></head>
<body><main><h1>Stand-in GitHub</h1><p>This is the local stand-in for GitHub. Pick who you are:</p>
<form method="post" action="/login/oauth/authorize">${hidden}
<ul>
${people}
</ul></form>
<form method="post" action="/login/oauth/authorize">${hidden}
<p><label>Or another login <input name="login" pattern="${LOGIN_INPUT_PATTERN}" required autocomplete="username"></label> <button type="submit">Sign in</button></p>
</form>
<form method="post" action="/login/oauth/authorize">${hidden}
<p><button type="submit" name="cancel" value="1" formnovalidate>Cancel</button> (goes back with <code>error=access_denied</code>, as GitHub does)</p>
</form>
<p><a href="/_stand-in/memberships">Memberships</a>: who is in which organization and team.</p>
</main></body></html>`;
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
}

/**
 * The stand-in's memberships page (GET /_stand-in/memberships): who is in which org and team, and
 * a form to add, change or remove one. Its form posts back to the same path.
 */
export function membershipsPage(directory: StandInDirectory, response: ServerResponse, notice = ''): void {
  const rows = directory
    .listMemberships()
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.org)}</td><td>${escapeHtml(m.team ?? '')}</td><td>${escapeHtml(m.login)}</td><td>${m.state}</td><td>${m.role}</td></tr>`,
    )
    .join('\n');
  const page = `<!doctype html><html lang="en"><head>${HEAD}<title>Stand-in GitHub: memberships</title></head>
<body><main><h1>Stand-in GitHub: memberships</h1>
${notice ? `<p role="status">${escapeHtml(notice)}</p>` : ''}
<table><thead><tr><th>org</th><th>team</th><th>login</th><th>state</th><th>role</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5">No memberships yet.</td></tr>'}
</tbody></table>
<form method="post" action="/_stand-in/memberships">
<p><label>org <input name="org" required></label> <label>team slug (optional) <input name="team"></label>
<label>login <input name="login" required></label></p>
<p><label>state <select name="state"><option>active</option><option>pending</option></select></label></p>
<p><button type="submit" name="action" value="add">Add or change</button>
<button type="submit" name="action" value="remove">Remove</button></p>
</form></main></body></html>`;
  response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
}

/** The form's post: carries it out and answers the page with what happened. */
export function applyMembershipsForm(directory: StandInDirectory, form: URLSearchParams): string {
  const org = (form.get('org') ?? '').trim();
  const team = (form.get('team') ?? '').trim() || undefined;
  const login = (form.get('login') ?? '').trim();
  const where = team ? `${org}/${team}` : org;
  if (form.get('action') === 'remove') {
    return directory.removeMembership({ org, team, login })
      ? `Removed ${login} from ${where}.`
      : `${login} was not in ${where}.`;
  }
  const state = (form.get('state') ?? 'active') as MembershipState;
  directory.setMembership({ org, team, login, state });
  return `${login} is ${state} in ${where}.`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
