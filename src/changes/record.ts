import { insertChangeRecord } from '../db/change-records.ts';
import type { Queryable } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { kindOfAction, type RecordedAction } from './actions.ts';
import type { ChangeOrigin } from './origin.ts';

/** Plain facts of a change: names, ids, lists, numbers and times, never a secret. */
export type ChangeDetails = Record<string, string | number | boolean | null | string[]>;

export interface ChangeFacts {
  action: RecordedAction;
  /** To whom: the person and the service the change concerns (ids of this gateway's rows). */
  subjectUserId?: string | null;
  subjectServiceId?: string | null;
  /** `ok`, or the check that refused (a sign-in's `not_whitelisted`, `github_denied`). */
  code?: string;
  details?: ChangeDetails;
}

/**
 * Writes one change record. Called with the transaction that makes the change, so a change is
 * never without its record (and a change that rolls back leaves none). The caller passes only
 * what may be kept: identifiers and facts, never a key, token, hash, code or cookie.
 */
export async function recordChange(db: Queryable, origin: ChangeOrigin, facts: ChangeFacts): Promise<void> {
  const code = facts.code ?? 'ok';
  const { actor } = origin;
  await insertChangeRecord(db, {
    id: crypto.randomUUID(),
    kind: kindOfAction(facts.action),
    action: facts.action,
    success: code === 'ok',
    code,
    actorKind: actor.kind,
    actorName: actor.kind === 'operator' ? actor.name : null,
    actorServiceId: actor.kind === 'service' ? actor.serviceId : null,
    actorUserId: actor.kind === 'person' && actor.userId && UUID_PATTERN.test(actor.userId) ? actor.userId : null,
    subjectUserId: facts.subjectUserId ?? null,
    subjectServiceId: facts.subjectServiceId ?? null,
    ipAddress: origin.ipAddress,
    userAgent: origin.userAgent,
    host: origin.host,
    requestId: origin.requestId,
    details: origin.via ? { ...facts.details, via: origin.via } : (facts.details ?? {}),
    createdAt: new Date(),
  });
}
