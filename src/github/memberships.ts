import type { GitHubEndpoints } from './client.ts';
import { field, getFromGitHub, segment } from './rest.ts';

/**
 * GitHub's answer to "is this person an active member?": yes, no (not a member, or only invited:
 * a pending invitation does not count), or no answer (GitHub down, the token refused, the app
 * lacking the organization "Members: read" permission), with why.
 */
export type MembershipAnswer =
  | { kind: 'member' }
  | { kind: 'not_member' }
  | { kind: 'unknown'; failure: MembershipFailure };

export type MembershipFailure =
  | 'github_unreachable'
  | 'github_error'
  | 'bad_credentials'
  | 'members_permission'
  /** The person's stored token cannot be used (none, or its refresh refused): they must sign in. */
  | 'no_token'
  | 'refresh_failed';

/**
 * The person's own membership of an organization, with their token:
 * `GET /user/memberships/orgs/{org}` (200 with `state` active or pending and `role` admin, member
 * or billing_manager; 404 when not affiliated). Only an active admin or member counts: a billing
 * manager is affiliated but no member. With `orgId`, the answer must be about that organization:
 * an org renamed, and its old login taken by another, admits nobody. A 200 whose body lacks these
 * fields is no answer (never a "no", which would end someone's admission).
 */
export async function orgMembership(
  endpoints: GitHubEndpoints,
  accessToken: string,
  org: { login: string; id: string | null },
): Promise<MembershipAnswer> {
  const answer = await getFromGitHub(endpoints, `/user/memberships/orgs/${segment(org.login)}`, accessToken);
  if (answer.kind === 'unreachable') return { kind: 'unknown', failure: 'github_unreachable' };
  if (answer.status === 404) return { kind: 'not_member' };
  if (answer.status !== 200) return failed(answer.status);
  const answeredId = field(field(answer.body, 'organization'), 'id');
  const state = field(answer.body, 'state');
  const role = field(answer.body, 'role');
  if (typeof answeredId !== 'number' || typeof state !== 'string' || typeof role !== 'string') {
    return { kind: 'unknown', failure: 'github_error' };
  }
  if (org.id !== null && String(answeredId) !== org.id) return { kind: 'not_member' };
  return state === 'active' && (role === 'admin' || role === 'member') ? { kind: 'member' } : { kind: 'not_member' };
}

/**
 * A person's membership of a team: `GET /orgs/{org}/teams/{team_slug}/memberships/{username}`
 * (200 with `state` active or pending; 404 when not in the team or the team is not visible to the
 * token's holder). GitHub counts the members of child teams as the team's. `username` must be the
 * person's login now, read from GitHub with their token. The answer names no organization: the
 * caller also asks orgMembership, which ties the rule to the org's id.
 */
export async function teamMembership(
  endpoints: GitHubEndpoints,
  accessToken: string,
  team: { org: string; slug: string; username: string },
): Promise<MembershipAnswer> {
  const path = `/orgs/${segment(team.org)}/teams/${segment(team.slug)}/memberships/${segment(team.username)}`;
  const answer = await getFromGitHub(endpoints, path, accessToken);
  if (answer.kind === 'unreachable') return { kind: 'unknown', failure: 'github_unreachable' };
  if (answer.status === 404) return { kind: 'not_member' };
  if (answer.status !== 200) return failed(answer.status);
  const state = field(answer.body, 'state');
  if (typeof state !== 'string') return { kind: 'unknown', failure: 'github_error' };
  return state === 'active' ? { kind: 'member' } : { kind: 'not_member' };
}

function failed(status: number): MembershipAnswer {
  if (status === 401) return { kind: 'unknown', failure: 'bad_credentials' };
  // 403: "Resource not accessible by integration" (the app lacks organization Members: read), an
  // organization that restricts apps or enforces SAML single sign-on, or a rate limit. None of
  // them says the person is no member.
  if (status === 403) return { kind: 'unknown', failure: 'members_permission' };
  return { kind: 'unknown', failure: status >= 500 ? 'github_unreachable' : 'github_error' };
}
