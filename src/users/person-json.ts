import type { Person } from './list-people.ts';

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
    admitted_by: person.admittedBy,
    last_sign_in_at: person.lastSignInAt?.toISOString() ?? null,
    first_seen_at: person.firstSeenAt.toISOString(),
    sessions: person.sessions.map((at) => ({
      service: at.service,
      live: at.live,
      latest_expires_at: at.latestExpiresAt.toISOString(),
    })),
  };
}
