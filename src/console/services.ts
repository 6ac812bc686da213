import type { Context } from 'hono';
import { html } from 'hono/html';
import type { AppEnv } from '../http/context.ts';
import { forgetVerifiedKeys } from '../http/service-auth.ts';
import { brandingOf } from '../pages/branding.ts';
import { CONSOLE_PATHS } from '../pages/console-layout.ts';
import {
  consoleDeleteConfirmPage,
  consoleKeyPage,
  consoleServicesPage,
  OLD_SYSTEM_KEY_ID,
} from '../pages/console-services.ts';
import type { Page } from '../pages/layout.ts';
import { newService, rotation, serviceChange, storableText } from '../routes/admin.routes.ts';
import {
  deleteService,
  editServiceAccess,
  listServices,
  RotationInProgressError,
  renameService,
  rotateServiceKey,
  type ServiceSummary,
  setServiceActive,
  UnknownServiceError,
} from '../services/admin.ts';
import { registerService } from '../services/register-service.ts';
import { flashRedirect, signedFlash } from './flash.ts';
import type { ConsoleOperator } from './gate.ts';
import {
  type ConsoleHandler,
  consoleErrorAnswer,
  consoleOrigin,
  consolePost,
  parseWith,
  refuse,
  single,
  viewerOf,
} from './handler.ts';

/** A service's id from a form or query: text Postgres can store (NUL names no service). */
const serviceId = storableText(100);

export const servicesPage: ConsoleHandler = async (c, operator) => {
  const services = await listServices(c.var.database());
  return c.html(
    consoleServicesPage(brandingOf(c.var.config), await viewerOf(c, operator), {
      services,
      flash: flashOf(await signedFlash(c, operator), services),
    }),
  );
};

/**
 * The line after a POST's 303 (`?done=<kind>&service=<id>`), said only when the console signed it
 * for this session (src/console/flash.ts) and the list bears it out.
 */
function flashOf(query: URLSearchParams | null, services: ServiceSummary[]): Page | null {
  const done = query?.get('done');
  const id = query?.get('service') ?? '';
  if (!done || !id) return null;
  const service = services.find((each) => each.identifier === id);
  if (done === 'deleted') return service ? null : html`<strong>${id}</strong> is deleted.`;
  if (!service) return null;
  const name = html`<strong>${id}</strong>`;
  switch (done) {
    case 'activated':
      return service.isActive ? html`${name} is active: its key works again.` : null;
    case 'deactivated':
      return service.isActive ? null : html`${name} is deactivated: its key is refused.`;
    case 'renamed':
      return html`${name} is now called ${service.displayName}.`;
    case 'updated':
      return html`The scopes and return addresses of ${name} are changed.`;
    case 'unchanged':
      return html`Nothing changed: that was already so for ${name}.`;
    default:
      return null;
  }
}

function servicesDone(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  done: string,
  identifier: string,
): Promise<{ redirect: string }> {
  return flashRedirect(c, operator, CONSOLE_PATHS.services, { done, service: identifier });
}

/** The answer that shows a new key: this response only (200, never cached), never a redirect. */
async function keyAnswer(
  c: Context<AppEnv>,
  operator: ConsoleOperator,
  input: Parameters<typeof consoleKeyPage>[2],
): Promise<Response> {
  const page = consoleKeyPage(brandingOf(c.var.config), await viewerOf(c, operator), input);
  return c.html(page, 200, { 'Cache-Control': 'no-store' });
}

/** Words separated by spaces or commas; lines for return addresses. Blank: not given. */
function listField(value: string | undefined, separator: RegExp): string[] | undefined {
  const items = (value ?? '')
    .split(separator)
    .map((each) => each.trim())
    .filter((each) => each !== '');
  return items.length === 0 ? undefined : items;
}

/** "Register": `gateway services register`, through the admin API's schema; the key on this answer only. */
export const register = consolePost('services', async (c, operator, form) => {
  const body = parseWith(newService, {
    id: single(form, 'id'),
    name: single(form, 'name'),
    scopes: listField(single(form, 'scopes'), /[\s,]+/),
    redirect_uris: listField(single(form, 'redirect_uris'), /\r?\n/),
  });
  const created = await registerService(
    c.var.database(),
    { identifier: body.id, displayName: body.name, scopes: body.scopes, redirectUris: body.redirect_uris },
    consoleOrigin(c, operator),
  );
  return keyAnswer(c, operator, {
    identifier: created.identifier,
    key: created.key,
    what: 'registered',
    previousKeyExpiresAt: null,
    cacheSeconds: c.var.config.VERIFY_CACHE_SECONDS,
  });
});

/** Whole hours, as `--grace-hours` takes them. */
const GRACE_HOURS = /^[0-9]{1,4}$/;

/**
 * "Rotate the key": the old key works for `grace_hours` (24; 0 ends it now); `force` during an
 * earlier grace. `key_id` is the key the form was shown for (ROTATION_KEY_FIELD): a form sent
 * again once that key is rotated ("Back", "Confirm resubmission") is refused (409) and rotates
 * nothing. This isolate forgets the service's verified keys at once.
 */
export const rotateKey = consolePost('services', async (c, operator, form) => {
  const id = parseWith(serviceId, single(form, 'id'));
  const shownFor = single(form, 'key_id');
  if (shownFor === undefined) refuse('invalid_body', 'Rotate a key from its form on the services page.');
  const hours = single(form, 'grace_hours') ?? '24';
  if (!GRACE_HOURS.test(hours)) refuse('invalid_body', 'grace_hours: whole hours, from 0 to 720.');
  const body = parseWith(rotation, { grace_seconds: Number(hours) * 3600, force: single(form, 'force') === 'true' });
  const rotated = await rotateServiceKey(c.var.database(), id, body.grace_seconds, new Date(), {
    force: body.force,
    origin: consoleOrigin(c, operator),
    expectedKeyId: shownFor === OLD_SYSTEM_KEY_ID ? null : shownFor,
  }).catch((error: unknown) => {
    if (error instanceof RotationInProgressError)
      error.message += ' Tick “even during an earlier rotation’s grace” to rotate anyway and end it now.';
    throw error;
  });
  forgetVerifiedKeys(rotated.serviceId);
  return keyAnswer(c, operator, {
    identifier: id,
    key: rotated.key,
    what: 'rotated',
    previousKeyExpiresAt: rotated.previousKeyExpiresAt,
    cacheSeconds: c.var.config.VERIFY_CACHE_SECONDS,
  });
});

/** "Deactivate" / "Activate" (`active=false|true`). */
export const changeState = consolePost('services', async (c, operator, form) => {
  const id = parseWith(serviceId, single(form, 'id'));
  const active = single(form, 'active');
  if (active !== 'true' && active !== 'false') refuse('invalid_body', 'active: true or false.');
  const body = parseWith(serviceChange, { active: active === 'true' });
  const changed = await setServiceActive(c.var.database(), id, body.active ?? false, consoleOrigin(c, operator));
  // A deactivated key is refused here at once (other instances within VERIFY_CACHE_SECONDS).
  forgetVerifiedKeys(changed.id);
  return servicesDone(c, operator, body.active ? 'activated' : 'deactivated', id);
});

export const rename = consolePost('services', async (c, operator, form) => {
  const id = parseWith(serviceId, single(form, 'id'));
  const body = parseWith(serviceChange, { name: single(form, 'name') ?? '' });
  await renameService(c.var.database(), id, body.name ?? '', consoleOrigin(c, operator));
  return servicesDone(c, operator, 'renamed', id);
});

const EDITS = ['add_scope', 'remove_scope', 'add_redirect_uri', 'remove_redirect_uri'] as const;

/** Add or remove one scope or return address (exactly one of the four fields). */
export const editService = consolePost('services', async (c, operator, form) => {
  const id = parseWith(serviceId, single(form, 'id'));
  const given = EDITS.filter((name) => form.has(name));
  const [edit] = given;
  if (edit === undefined || given.length > 1)
    refuse('invalid_body', 'Give one of add_scope, remove_scope, add_redirect_uri or remove_redirect_uri.');
  const value = (single(form, edit) ?? '').trim();
  const body = parseWith(serviceChange, { [`${edit}s`]: [value] });
  const { written } = await editServiceAccess(
    c.var.database(),
    id,
    {
      addScopes: body.add_scopes ?? [],
      removeScopes: body.remove_scopes ?? [],
      addRedirectUris: body.add_redirect_uris ?? [],
      removeRedirectUris: body.remove_redirect_uris ?? [],
    },
    consoleOrigin(c, operator),
  );
  return servicesDone(c, operator, written ? 'updated' : 'unchanged', id);
});

/** "Delete X…" (GET): the confirmation step, which posts the deletion. */
export const confirmDelete: ConsoleHandler = async (c, operator) => {
  const id = c.req.query('id') ?? '';
  const service = (await listServices(c.var.database())).find((each) => each.identifier === id);
  if (!service) return consoleErrorAnswer(c, operator, 'services', new UnknownServiceError(id));
  return c.html(consoleDeleteConfirmPage(brandingOf(c.var.config), await viewerOf(c, operator), service));
};

/** "Delete X for good" (`confirm=yes`, from the confirmation page only). */
export const removeService = consolePost('services', async (c, operator, form) => {
  const id = parseWith(serviceId, single(form, 'id'));
  if (single(form, 'confirm') !== 'yes') refuse('invalid_body', 'Delete a service from its confirmation page.');
  const deleted = await deleteService(c.var.database(), id, consoleOrigin(c, operator));
  forgetVerifiedKeys(deleted.id);
  return servicesDone(c, operator, 'deleted', id);
});
