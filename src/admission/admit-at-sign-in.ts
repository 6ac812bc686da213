import { findLiveRules } from '../db/admission-rules.ts';
import type { Database } from '../db/client.ts';
import { saveMembershipCheck } from '../db/membership-checks.ts';
import type { SignedInUser } from '../db/users.ts';
import type { GitHubEndpoints } from '../github/client.ts';
import type { MembershipFailure } from '../github/memberships.ts';
import { checkMemberships } from './check-memberships.ts';
import { type AdmissionRule, isMembershipRule } from './rule.ts';

/** What a sign-in found: admitted (by what), refused (by which check), or GitHub did not answer. */
export type SignInAdmission =
  | { kind: 'admitted'; by: { kind: 'whitelist' } | { kind: 'rule'; rule: AdmissionRule } }
  | { kind: 'refused'; code: 'not_whitelisted' | 'not_a_member' }
  | { kind: 'unanswered'; failure: MembershipFailure };

/**
 * Whether the person who just came back from GitHub is admitted: their whitelist flag, a login
 * rule naming their GitHub id, else their active memberships of the org and team rules, asked of
 * GitHub with their own fresh token (one request per rule, in parallel). The membership result is
 * kept for verify. Costs, with one org rule: one query for the rules, one GitHub request, one write.
 */
export async function admitAtSignIn(
  deps: { db: Database; github: GitHubEndpoints },
  user: SignedInUser,
  github: { accessToken: string; login: string },
): Promise<SignInAdmission> {
  if (user.isWhitelisted) return { kind: 'admitted', by: { kind: 'whitelist' } };
  const rules = await findLiveRules(deps.db);
  const byLogin = rules.find((rule) => rule.kind === 'login' && rule.githubUserId === user.githubUserId);
  if (byLogin) return { kind: 'admitted', by: { kind: 'rule', rule: byLogin } };
  const membershipRules = rules.filter(isMembershipRule);
  if (membershipRules.length === 0) return { kind: 'refused', code: 'not_whitelisted' };

  const askedAt = new Date();
  const result = await checkMemberships(deps.github, github, membershipRules);
  if (result.kind === 'unknown') {
    await saveMembershipCheck(deps.db, user.id, { answered: false, failure: result.failure, forget: false });
    return { kind: 'unanswered', failure: result.failure };
  }
  const admittedBy = result.kind === 'member' ? membershipRules.find((rule) => rule.id === result.ruleId) : undefined;
  await saveMembershipCheck(deps.db, user.id, { answered: true, admittedByRuleId: admittedBy?.id ?? null, askedAt });
  return admittedBy
    ? { kind: 'admitted', by: { kind: 'rule', rule: admittedBy } }
    : { kind: 'refused', code: 'not_a_member' };
}
