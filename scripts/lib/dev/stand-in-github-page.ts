import type { ServerResponse } from 'node:http';
import type { MembershipState, StandInDirectory } from './stand-in-github-directory.ts';

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
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in GitHub: memberships</title></head>
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
