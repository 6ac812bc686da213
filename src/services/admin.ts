import type { ChangeOrigin } from '../changes/origin.ts';
import { type ChangeFacts, recordChange } from '../changes/record.ts';
import { generateServiceKey } from '../crypto/service-keys.ts';
import type { Database } from '../db/client.ts';
import {
  editServiceLists,
  findServiceKeysByIdentifier,
  findServiceSummaryByIdentifier,
  listServiceSummaries,
  markServiceDeleted,
  replaceServiceKeys,
  type ServiceAccessChange,
  type ServiceListEdits,
  type ServiceSummaryRow,
  updateServiceByIdentifier,
} from '../db/services.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { escapeControl } from '../validation/control-characters.ts';
import { displayName } from '../validation/operator-input.ts';
import { firstIssueMessage } from '../validation/zod-issues.ts';
import { type EventsSummary, eventsSummaryOf } from './events-summary.ts';
import { ServiceInputError, validateRedirectUri, validateScopes } from './register-service.ts';

/** What operators see of a service: never its key or hash. */
export interface ServiceSummary {
  id: string;
  identifier: string;
  displayName: string;
  scopes: string[];
  redirectUris: string[];
  isActive: boolean;
  lastUsedAt: Date | null;
  previousKeyExpiresAt: Date | null;
  legacyKey: boolean;
  /** The lookup part of the current key (`gwk_<keyId>_…`, not a secret); null for an old-system key. */
  keyId: string | null;
  createdAt: Date;
  /** Where its events go (docs/api.md, "Events pushed to your service"); null: it gets none. */
  events: EventsSummary | null;
}

function toSummary(row: ServiceSummaryRow): ServiceSummary {
  return {
    id: row.id,
    identifier: row.serviceIdentifier,
    displayName: row.displayName,
    scopes: row.allowedScopes,
    redirectUris: row.redirectUris,
    isActive: row.isActive,
    lastUsedAt: row.lastUsedAt,
    previousKeyExpiresAt: row.previousKeyExpiresAt,
    createdAt: row.createdAt,
    legacyKey: row.keyId === null,
    keyId: row.keyId,
    events: eventsSummaryOf(row),
  };
}

export async function listServices(db: Database): Promise<ServiceSummary[]> {
  return (await listServiceSummaries(db)).map(toSummary);
}

export class UnknownServiceError extends GatewayError<'unknown_service'> {
  constructor(identifier: string) {
    super(
      'unknown_service',
      'not_found',
      `There is no service "${escapeControl(identifier)}"; \`npx gateway services list\` shows them.`,
    );
  }
}

/** Deactivating is a soft delete: the row and its audit history stay; the key stops working. */
export async function setServiceActive(
  db: Database,
  identifier: string,
  active: boolean,
  origin: ChangeOrigin,
): Promise<ServiceSummary> {
  return updateByIdentifier(db, identifier, { isActive: active }, origin, {
    action: active ? 'services:activate' : 'services:deactivate',
  });
}

export async function updateServiceAccess(
  db: Database,
  identifier: string,
  change: { scopes?: string[]; redirectUris?: string[] },
  origin: ChangeOrigin,
): Promise<ServiceSummary> {
  validateScopes(change.scopes ?? []);
  for (const uri of change.redirectUris ?? []) validateRedirectUri(uri);
  return updateByIdentifier(
    db,
    identifier,
    {
      ...(change.scopes ? { allowedScopes: change.scopes } : {}),
      ...(change.redirectUris ? { redirectUris: change.redirectUris } : {}),
    },
    origin,
    {
      action: 'services:update',
      details: {
        ...(change.scopes ? { scopes: change.scopes } : {}),
        ...(change.redirectUris ? { redirect_uris: change.redirectUris } : {}),
      },
    },
  );
}

/** A new display name (the name people see); the identifier the service calls itself by stays. */
export async function renameService(
  db: Database,
  identifier: string,
  name: string,
  origin: ChangeOrigin,
): Promise<ServiceSummary> {
  const parsed = displayName.safeParse(name);
  if (!parsed.success) throw new ServiceInputError(`The display name ${firstIssueMessage(parsed.error)}.`);
  return updateByIdentifier(db, identifier, { displayName: name }, origin, {
    action: 'services:rename',
    details: { name },
  });
}

/** An edit that was already so: adding what is there, or removing what is not. */
export interface UnneededEdit {
  kind: 'scope' | 'redirect_uri';
  value: string;
  /** 'present': asked to add, already there; 'absent': asked to remove, not there. */
  state: 'present' | 'absent';
}

/**
 * Adds and removes scopes and return addresses one at a time, in one statement (two operators'
 * edits at once both land). Returns the service after, and the edits that were already so.
 */
export async function editServiceAccess(
  db: Database,
  identifier: string,
  edits: ServiceListEdits,
  origin: ChangeOrigin,
): Promise<{ service: ServiceSummary; unneeded: UnneededEdit[]; written: boolean }> {
  validateScopes(edits.addScopes);
  for (const uri of edits.addRedirectUris) validateRedirectUri(uri);
  const both = [
    ...edits.addScopes.filter((scope) => edits.removeScopes.includes(scope)),
    ...edits.addRedirectUris.filter((uri) => edits.removeRedirectUris.includes(uri)),
  ];
  if (both.length > 0)
    throw new ServiceInputError(`"${escapeControl(both[0] ?? '')}" is both added and removed; pick one.`);
  // Recorded only when a list changed: edits that were all already so change nothing.
  const outcome = await db.transaction(async (tx) => {
    const edited = await editServiceLists(tx, identifier, edits);
    if (edited?.written) {
      const service = await findServiceSummaryByIdentifier(tx, identifier);
      await recordChange(tx, origin, {
        action: 'services:update',
        subjectServiceId: service?.id ?? null,
        details: {
          add_scopes: edits.addScopes,
          remove_scopes: edits.removeScopes,
          add_redirect_uris: edits.addRedirectUris,
          remove_redirect_uris: edits.removeRedirectUris,
        },
      });
    }
    return edited;
  });
  if (!outcome) throw new UnknownServiceError(identifier);
  const { allowedScopes, redirectUris } = outcome.before;
  const unneeded: UnneededEdit[] = [
    ...edits.addScopes
      .filter((v) => allowedScopes.includes(v))
      .map((value) => ({ kind: 'scope' as const, value, state: 'present' as const })),
    ...edits.removeScopes
      .filter((v) => !allowedScopes.includes(v))
      .map((value) => ({ kind: 'scope' as const, value, state: 'absent' as const })),
    ...edits.addRedirectUris
      .filter((v) => redirectUris.includes(v))
      .map((value) => ({ kind: 'redirect_uri' as const, value, state: 'present' as const })),
    ...edits.removeRedirectUris
      .filter((v) => !redirectUris.includes(v))
      .map((value) => ({ kind: 'redirect_uri' as const, value, state: 'absent' as const })),
  ];
  const service = await findServiceSummaryByIdentifier(db, identifier);
  if (!service) throw new UnknownServiceError(identifier);
  return { service: toSummary(service), unneeded, written: outcome.written };
}

/**
 * Deletes a service: its keys are cleared and it is unknown to every lookup from now on (within
 * VERIFY_CACHE_SECONDS for a key an instance already verified); its sessions and login codes end.
 * The row stays, so its audit rows stay readable and its identifier stays reserved.
 */
export async function deleteService(
  db: Database,
  identifier: string,
  origin: ChangeOrigin,
  now = new Date(),
): Promise<ServiceSummary & { deletedAt: Date }> {
  const row = await db.transaction(async (tx) => {
    const deleted = await markServiceDeleted(tx, identifier, now);
    if (deleted) await recordChange(tx, origin, { action: 'services:delete', subjectServiceId: deleted.id });
    return deleted;
  });
  if (!row) throw new UnknownServiceError(identifier);
  return { ...toSummary(row), deletedAt: now };
}

export const DEFAULT_GRACE_SECONDS = 24 * 3600;
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

/**
 * The service's previous key is still in its grace period: rotating again would end it at once,
 * breaking the promise the last rotation made. `endsAt` is when that grace period ends; the
 * command and the API say how to force it (which ends the previous key now).
 */
export class RotationInProgressError extends GatewayError<'rotation_in_progress'> {
  readonly endsAt: Date;

  constructor(identifier: string, endsAt: Date) {
    super(
      'rotation_in_progress',
      'conflict',
      `${escapeControl(identifier)} is in a key rotation: its previous key works until ${endsAt.toISOString()}. ` +
        'Rotating again now would end that key at once.',
    );
    this.endsAt = endsAt;
  }
}

/** The key to rotate is no longer the service's current one: it was rotated since (a form sent twice). */
export class KeyChangedError extends GatewayError<'key_changed'> {
  constructor(identifier: string) {
    super(
      'key_changed',
      'conflict',
      `The key of ${escapeControl(identifier)} was rotated since this form was shown; nothing changed. Rotate it again from the services page if you mean to.`,
    );
  }
}

/**
 * A new key for the service; the current one keeps working for `graceSeconds` (0 ends it now), so
 * the service can switch without downtime. Returns the new key: the only time it is shown.
 * Refused while an earlier rotation's previous key is still in its grace period, unless `force`
 * (which ends that older key now).
 */
export async function rotateServiceKey(
  db: Database,
  identifier: string,
  graceSeconds = DEFAULT_GRACE_SECONDS,
  now = new Date(),
  {
    force = false,
    origin,
    expectedKeyId,
  }: {
    force?: boolean;
    origin: ChangeOrigin;
    /** Only if the current key is still this one (its key id; null: an old-system key), else KeyChangedError. */
    expectedKeyId?: string | null;
  },
): Promise<{ key: string; previousKeyExpiresAt: Date | null; serviceId: string }> {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
    throw new ServiceInputError(
      `The grace period is a whole number of seconds, at most ${MAX_GRACE_SECONDS / 86_400} days.`,
    );
  }
  const current = await findServiceKeysByIdentifier(db, identifier);
  if (!current) throw new UnknownServiceError(identifier);
  if (expectedKeyId !== undefined && current.keyId !== expectedKeyId) throw new KeyChangedError(identifier);
  const graceEndsAt = current.previousKeyHash === null ? null : current.previousKeyExpiresAt;
  if (graceEndsAt && graceEndsAt.getTime() > now.getTime() && !force)
    throw new RotationInProgressError(identifier, graceEndsAt);
  const fresh = await generateServiceKey();
  // An old-system key has no lookup id: as the previous key it is found by the service identifier
  // the service sends with it (previous_key_id stays null), so it keeps working through the grace too.
  const keepPrevious = graceSeconds > 0;
  const previousKeyExpiresAt = keepPrevious ? new Date(now.getTime() + graceSeconds * 1000) : null;
  // Only over the key we read: of two rotations at once, the later one finds the key changed and
  // starts again from what the first wrote (so it is refused during the grace period it began).
  const written = await db.transaction(async (tx) => {
    const replaced = await replaceServiceKeys(tx, current.id, current.apiKeyHash, {
      apiKeyHash: fresh.hash,
      keyId: fresh.keyId,
      previousKeyId: keepPrevious ? current.keyId : null,
      previousKeyHash: keepPrevious ? current.apiKeyHash : null,
      previousKeyExpiresAt,
    });
    // The grace period and the forcing, never the key, its id or its hash.
    if (replaced)
      await recordChange(tx, origin, {
        action: 'services:rotate-key',
        subjectServiceId: current.id,
        details: {
          grace_seconds: graceSeconds,
          force,
          previous_key_expires_at: previousKeyExpiresAt?.toISOString() ?? null,
        },
      });
    return replaced;
  });
  if (!written) return rotateServiceKey(db, identifier, graceSeconds, now, { force, origin, expectedKeyId });
  return { key: fresh.key, previousKeyExpiresAt, serviceId: current.id };
}

/** Applies the change and writes its record in one transaction. */
async function updateByIdentifier(
  db: Database,
  identifier: string,
  change: ServiceAccessChange,
  origin: ChangeOrigin,
  facts: Omit<ChangeFacts, 'subjectServiceId'>,
): Promise<ServiceSummary> {
  const row = await db.transaction(async (tx) => {
    const updated = await updateServiceByIdentifier(tx, identifier, change);
    if (updated) await recordChange(tx, origin, { ...facts, subjectServiceId: updated.id });
    return updated;
  });
  if (!row) throw new UnknownServiceError(identifier);
  return toSummary(row);
}
