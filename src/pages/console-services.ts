import { html } from 'hono/html';
import { ASSET_ROUTES } from '../routes/assets.routes.ts';
import type { ServiceSummary } from '../services/admin.ts';
import type { Branding } from './branding.ts';
import {
  buttonForm,
  CONSOLE_PATHS,
  type ConsoleViewer,
  consoleLayout,
  csrfField,
  flashLine,
  when,
} from './console-layout.ts';
import type { Page } from './layout.ts';

/** The copy button's script (src/pages/assets.ts): progressive enhancement of the readonly key field. */
export const COPY_SCRIPT_PATH = ASSET_ROUTES.copyScript.path;

/**
 * The rotation form's `key_id` for a key from the old system, which has no key id (a real one is
 * 12 characters, so never this).
 */
export const OLD_SYSTEM_KEY_ID = 'old-system';

export interface ServicesPageInput {
  services: ServiceSummary[];
  flash: Page | null;
}

export function consoleServicesPage(branding: Branding, viewer: ConsoleViewer, input: ServicesPageInput): Page {
  const list =
    input.services.length === 0
      ? html`<p>No service is registered yet.</p>`
      : input.services.map((service) => serviceSection(service, viewer.csrfToken));
  return consoleLayout(
    branding,
    viewer,
    'services',
    'Services',
    html`${flashLine(input.flash)}<h1>Services</h1>
${list}
<h2 id="register">Register a service</h2>
<form method="post" action="${CONSOLE_PATHS.register}" class="fields">${csrfField(viewer.csrfToken)}
<label for="new-id">Id (what the service calls itself by; it never changes)</label>
<input id="new-id" name="id" required maxlength="100" autocomplete="off">
<label for="new-name">Name people see</label>
<input id="new-name" name="name" required maxlength="200" autocomplete="off">
<label for="new-scopes">Scopes, separated by spaces</label>
<input id="new-scopes" name="scopes" value="users:verify" autocomplete="off">
<label for="new-redirects">Return addresses, one a line</label>
<textarea id="new-redirects" name="redirect_uris" rows="3"></textarea>
<button type="submit">Register</button></form>`,
  );
}

function serviceSection(service: ServiceSummary, csrfToken: string) {
  const id = { id: service.identifier };
  const heading = `service-${service.identifier}`;
  const state = service.isActive ? 'active' : 'deactivated';
  const grace =
    service.previousKeyExpiresAt && service.previousKeyExpiresAt.getTime() > Date.now()
      ? html`; its previous key works until ${when(service.previousKeyExpiresAt)}`
      : '';
  const events = service.events
    ? html`${service.events.url}${
        service.events.failingSince
          ? html` <strong>failing since ${when(service.events.failingSince)}</strong>`
          : ', delivering'
      }, ${service.events.undelivered} undelivered`
    : 'none';
  return html`<section class="service" aria-labelledby="${heading}">
<h2 id="${heading}">${service.displayName} <code>${service.identifier}</code></h2>
<dl>
<dt>State</dt><dd>${state}${grace}${service.legacyKey ? ' (a key from the old system)' : ''}</dd>
<dt>Last use</dt><dd>${service.lastUsedAt ? when(service.lastUsedAt) : 'never'}</dd>
<dt>Events</dt><dd>${events}</dd>
<dt>Scopes</dt><dd>${editableList(service, 'scope', service.scopes, csrfToken)}</dd>
<dt>Return addresses</dt><dd>${editableList(service, 'redirect_uri', service.redirectUris, csrfToken)}</dd>
</dl>
<div class="actions">
${buttonForm(CONSOLE_PATHS.serviceState, csrfToken, { ...id, active: service.isActive ? 'false' : 'true' }, `${service.isActive ? 'Deactivate' : 'Activate'} ${service.identifier}`, true)}
<form method="post" action="${CONSOLE_PATHS.rotateKey}" class="inline">${csrfField(csrfToken)}<input type="hidden" name="id" value="${service.identifier}"><input type="hidden" name="key_id" value="${service.keyId ?? OLD_SYSTEM_KEY_ID}">
<label for="grace-${service.identifier}">Old key works for (hours)</label>
<input id="grace-${service.identifier}" name="grace_hours" inputmode="numeric" pattern="[0-9]+" value="24" size="4">
<label><input type="checkbox" name="force" value="true"> even during an earlier rotation’s grace</label>
<button type="submit">Rotate the key of ${service.identifier}</button></form>
<form method="post" action="${CONSOLE_PATHS.rename}" class="inline">${csrfField(csrfToken)}<input type="hidden" name="id" value="${service.identifier}">
<label for="name-${service.identifier}">Name</label>
<input id="name-${service.identifier}" name="name" value="${service.displayName}" required maxlength="200">
<button type="submit" class="secondary">Rename ${service.identifier}</button></form>
<p><a href="${CONSOLE_PATHS.deleteService}?id=${encodeURIComponent(service.identifier)}">Delete ${service.identifier}…</a></p>
</div>
</section>
`;
}

function editableList(service: ServiceSummary, kind: 'scope' | 'redirect_uri', values: string[], csrfToken: string) {
  const words = kind === 'scope' ? 'scope' : 'return address';
  const items = values.map(
    (value) =>
      html`<li><code>${value}</code> ${buttonForm(CONSOLE_PATHS.editService, csrfToken, { id: service.identifier, [`remove_${kind}`]: value }, `Remove ${words} ${value}`, true)}</li>`,
  );
  const field = `add-${kind}-${service.identifier}`;
  return html`${values.length === 0 ? html`<p>none</p>` : html`<ul class="values">${items}</ul>`}
<form method="post" action="${CONSOLE_PATHS.editService}" class="inline">${csrfField(csrfToken)}<input type="hidden" name="id" value="${service.identifier}">
<label for="${field}">Add a ${words}</label>
<input id="${field}" name="add_${kind}" required maxlength="${kind === 'scope' ? 50 : 2048}" autocomplete="off">
<button type="submit" class="secondary">Add</button></form>`;
}

/**
 * A new key, shown this once: on the POST's own answer (200, no-store), never in a URL, a flash
 * or a later page. The key sits in a readonly field (select and copy it by hand); the copy
 * button, hidden until its script runs, only makes that one click.
 */
export function consoleKeyPage(
  branding: Branding,
  viewer: ConsoleViewer,
  input: {
    identifier: string;
    key: string;
    what: 'registered' | 'rotated';
    previousKeyExpiresAt: Date | null;
    /** VERIFY_CACHE_SECONDS: how long another instance may still accept a key it verified. */
    cacheSeconds: number;
  },
): Page {
  const said =
    input.what === 'registered'
      ? html`<strong>${input.identifier}</strong> is registered.`
      : html`The key of <strong>${input.identifier}</strong> is rotated${
          input.previousKeyExpiresAt
            ? html`; the old key works until ${when(input.previousKeyExpiresAt)}`
            : input.cacheSeconds > 0
              ? `; the old key is refused from now on: at once on this instance, and everywhere within ${input.cacheSeconds} seconds`
              : '; the old key no longer works'
        }.`;
  return consoleLayout(
    branding,
    viewer,
    'services',
    'The new key',
    html`<h1>The new key</h1>
<p role="status">${said}</p>
<p>This is the only time the gateway shows this key: put it in the service’s configuration now.</p>
<div class="key"><label for="new-key">The key of ${input.identifier}</label>
<input id="new-key" class="key" readonly value="${input.key}" autocomplete="off" spellcheck="false">
<button type="button" class="copy" data-copy="new-key" hidden>Copy the key</button></div>
<p><a href="${CONSOLE_PATHS.services}">Back to the services</a></p>`,
    [COPY_SCRIPT_PATH],
  );
}

/** "Delete X…": the confirmation step, a page of its own (no script needed). */
export function consoleDeleteConfirmPage(branding: Branding, viewer: ConsoleViewer, service: ServiceSummary): Page {
  return consoleLayout(
    branding,
    viewer,
    'services',
    `Delete ${service.identifier}`,
    html`<h1>Delete ${service.displayName} (<code>${service.identifier}</code>)?</h1>
<p>Its key is refused from now on, its people’s sessions there end, and it leaves the list. Its audit rows stay, and its id stays reserved. This cannot be undone.</p>
${buttonForm(CONSOLE_PATHS.deleteService, viewer.csrfToken, { id: service.identifier, confirm: 'yes' }, `Delete ${service.identifier} for good`)}
<p><a href="${CONSOLE_PATHS.services}">Keep it: back to the services</a></p>`,
  );
}
