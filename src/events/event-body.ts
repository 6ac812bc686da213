import type { EventPerson } from '../db/service-events.ts';

/**
 * The bodies of the events pushed to services, exactly as docs/api.md ("Events pushed to your
 * service") spells them: `{"type","timestamp","data"}`, the person as `{id, github_id, login}`.
 */
export type SessionEndedReason =
  | 'signed_out'
  | 'signed_out_everywhere'
  | 'signed_out_by_operator'
  | 'revoked'
  | 'standing_access_expired'
  | 'code_reused';
export type AdmissionEndedReason = 'not_whitelisted' | 'not_a_member' | 'membership_unverified';

export type EventType = 'session.ended' | 'admission.ended';

function personJson(person: EventPerson) {
  return { id: person.id, github_id: person.githubUserId, login: person.githubLogin };
}

export function sessionEndedBody(
  person: EventPerson,
  sessionIds: string[],
  reason: SessionEndedReason,
  at: Date,
): string {
  return JSON.stringify({
    type: 'session.ended',
    timestamp: at.toISOString(),
    data: { user: personJson(person), session_ids: sessionIds, reason },
  });
}

export function admissionEndedBody(person: EventPerson, reason: AdmissionEndedReason, at: Date): string {
  return JSON.stringify({
    type: 'admission.ended',
    timestamp: at.toISOString(),
    data: { user: personJson(person), reason },
  });
}
