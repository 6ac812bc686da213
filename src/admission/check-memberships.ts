import type { GitHubEndpoints } from '../github/client.ts';
import { type MembershipAnswer, type MembershipFailure, orgMembership, teamMembership } from '../github/memberships.ts';
import type { MembershipRule } from './rule.ts';

/**
 * What GitHub said about a person and the org and team rules: a member through a rule (the first
 * in the rules' order that said so), a member of none (every rule answered no), or no answer
 * (at least one rule got none, and none said yes).
 */
export type MembershipResult =
  | { kind: 'member'; ruleId: string }
  | { kind: 'not_member' }
  | { kind: 'unknown'; failure: MembershipFailure };

/** The person GitHub is asked about. */
export interface MembershipCheckInput {
  /** The person's GitHub access token (a GitHub App user token carries the app's permissions). */
  accessToken: string;
  /** The person's login now, as GitHub gave it with this token (team memberships are asked by login). */
  login: string;
}

/**
 * Asks GitHub about every org and team rule at once, with the person's own token: one request per
 * rule, in parallel, so a sign-in waits for the slowest, not the sum.
 */
export async function checkMemberships(
  endpoints: GitHubEndpoints,
  person: MembershipCheckInput,
  rules: readonly MembershipRule[],
): Promise<MembershipResult> {
  const answers = await Promise.all(rules.map((rule) => ask(endpoints, person, rule)));
  const memberOf = rules.find((_, index) => answers[index]?.kind === 'member');
  if (memberOf) return { kind: 'member', ruleId: memberOf.id };
  const failed = answers.find((answer) => answer.kind === 'unknown');
  return failed ? { kind: 'unknown', failure: failed.failure } : { kind: 'not_member' };
}

/**
 * One rule's question. A team rule asks two, in parallel: the team membership, and the person's
 * own org membership, whose answer carries the org's id (the team answer carries none), so a team
 * of an org that took a renamed org's old login admits nobody.
 */
async function ask(
  endpoints: GitHubEndpoints,
  person: MembershipCheckInput,
  rule: MembershipRule,
): Promise<MembershipAnswer> {
  const org = orgMembership(endpoints, person.accessToken, { login: rule.orgLogin, id: rule.orgId });
  if (rule.kind === 'org') return org;
  const team = teamMembership(endpoints, person.accessToken, {
    org: rule.orgLogin,
    slug: rule.teamSlug ?? '',
    username: person.login,
  });
  return both(await org, await team);
}

/** Yes only when both say yes; no when either says no; else no answer. */
function both(a: MembershipAnswer, b: MembershipAnswer): MembershipAnswer {
  if (a.kind === 'not_member' || b.kind === 'not_member') return { kind: 'not_member' };
  if (a.kind === 'unknown') return a;
  return b;
}
