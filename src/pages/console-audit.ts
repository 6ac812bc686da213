import { html } from 'hono/html';
import type { AuditActor, AuditEntry } from '../audit/query.ts';
import { AUDIT_KINDS } from '../changes/actions.ts';
import type { Branding } from './branding.ts';
import { CONSOLE_PATHS, type ConsoleViewer, consoleLayout, when } from './console-layout.ts';
import type { Page } from './layout.ts';

/** The audit page's filters, as the GET form sends them (the admin API's names). */
export interface AuditFilterValues {
  kind?: string;
  service?: string;
  user_id?: string;
  success?: string;
  since?: string;
  until?: string;
}

export interface AuditPageInput {
  filters: AuditFilterValues;
  entries: AuditEntry[];
  /** The next (older) page's address, with the same filters; null on the last page. */
  nextPage: string | null;
  /** A filter refused, with why: the form is shown again, with no rows. */
  refused: string | null;
}

export function consoleAuditPage(branding: Branding, viewer: ConsoleViewer, input: AuditPageInput): Page {
  const f = input.filters;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const rows =
    input.entries.length === 0
      ? html`<p>No entries${input.refused ? '' : ' match these filters'}.</p>`
      : html`<div class="table"><table>
<caption>Audit entries, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Service</th><th scope="col">Person</th><th scope="col">By</th></tr></thead>
<tbody>
${input.entries.map(entryRow)}</tbody>
</table></div>`;
  return consoleLayout(
    branding,
    viewer,
    'audit',
    'Audit',
    html`<h1>Audit</h1>
${input.refused ? html`<p class="notice" role="alert">${input.refused}</p>\n` : ''}<form method="get" action="${CONSOLE_PATHS.audit}" class="filters">
<label for="f-kind">Kind</label>
<select id="f-kind" name="kind">${option('', 'every kind', f.kind ?? '')}${AUDIT_KINDS.map((kind) => option(kind, kind, f.kind))}</select>
<label for="f-service">Service id</label>
<input id="f-service" name="service" value="${f.service ?? ''}" maxlength="100" autocomplete="off">
<label for="f-user">Person (user id)</label>
<input id="f-user" name="user_id" value="${f.user_id ?? ''}" maxlength="36" autocomplete="off">
<label for="f-success">Outcome</label>
<select id="f-success" name="success">${option('', 'any', f.success ?? '')}${option('true', 'succeeded', f.success)}${option('false', 'failed', f.success)}</select>
<label for="f-since">Since (e.g. 2026-12-01T00:00:00Z)</label>
<input id="f-since" name="since" value="${f.since ?? ''}" autocomplete="off">
<label for="f-until">Until</label>
<input id="f-until" name="until" value="${f.until ?? ''}" autocomplete="off">
<button type="submit">Filter</button> <a href="${CONSOLE_PATHS.audit}">Clear</a>
</form>
${rows}${input.nextPage ? html`<p><a href="${input.nextPage}" rel="next">Older entries</a></p>` : ''}`,
  );
}

function entryRow(entry: AuditEntry) {
  const service = entry.service ? html`<a href="${auditLink({ service: entry.service })}">${entry.service}</a>` : '';
  const person = entry.userId
    ? html`<a href="${auditLink({ user_id: entry.userId })}">${entry.userLogin ?? entry.userId}</a>`
    : '';
  const outcome = entry.success ? 'succeeded' : `failed${entry.code ? ` (${entry.code})` : ''}`;
  return html`<tr><td>${when(entry.at)}</td><td>${entry.kind}</td><td><code>${entry.action}</code></td><td>${outcome}</td><td>${service}</td><td>${person}</td><td>${actorText(entry.actor)}</td></tr>
`;
}

function actorText(actor: AuditActor | null) {
  if (!actor) return '';
  switch (actor.kind) {
    case 'operator':
      return `operator ${actor.name ?? ''}`;
    case 'service':
      return actor.service
        ? html`service <a href="${auditLink({ service: actor.service })}">${actor.service}</a>`
        : 'a service';
    case 'person':
      return actor.userId
        ? html`<a href="${auditLink({ user_id: actor.userId })}">${actor.userLogin ?? actor.userId}</a>`
        : 'a person';
    case 'gateway':
      return 'the gateway';
  }
}

/** The audit page filtered to one service or person: where each row's names link. */
export function auditLink(filters: AuditFilterValues & { cursor?: string }): string {
  const query = new URLSearchParams(
    Object.entries(filters).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '',
    ),
  );
  const text = query.toString();
  return text ? `${CONSOLE_PATHS.audit}?${text}` : CONSOLE_PATHS.audit;
}
