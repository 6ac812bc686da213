import type { AdmittedBy, Person } from './list-people.ts';

/**
 * A person as the admin API answers it and `gateway users list --json` prints it (docs/api.md):
 * snake_case names, ISO times, never a token.
 */
export function personJson(person: Person) {
  return {
    id: person.id,
    github_id: person.githubId,
    login: person.login,
    admitted: person.admittedBy !== null,
    admitted_by: admittedByJson(person.admittedBy),
    refused_code: person.refusedCode,
    membership_checked_at: person.membershipCheckedAt?.toISOString() ?? null,
    last_sign_in_at: person.lastSignInAt?.toISOString() ?? null,
    first_seen_at: person.firstSeenAt.toISOString(),
    sessions: person.sessions.map((at) => ({
      service: at.service,
      live: at.live,
      latest_expires_at: at.latestExpiresAt.toISOString(),
    })),
  };
}

function admittedByJson(by: AdmittedBy) {
  if (by === null) return null;
  if (by.kind === 'whitelist') return { kind: 'whitelist' as const };
  return { kind: 'rule' as const, rule_id: by.ruleId, admits: by.admits };
}
