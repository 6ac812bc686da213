import type { AdmissionFacts } from '../db/membership-checks.ts';

/** The bounds on a membership check's age (MEMBERSHIP_FRESH_SECONDS, MEMBERSHIP_HARD_SECONDS). */
export interface MembershipBounds {
  /** Younger than this, the last check's result is used as it is. */
  freshSeconds: number;
  /** Older than this with no answered check, the person is refused until one succeeds. */
  hardSeconds: number;
}

/** A re-check is not started again sooner than this after the last attempt, answered or not. */
export const RECHECK_RETRY_MS = 30_000;

/** What admits a person, or which check refuses them (a verify `code`). */
export type AdmissionDecision =
  | { admitted: true; by: { kind: 'whitelist' } | { kind: 'rule'; ruleId: string }; recheckDue: boolean }
  | { admitted: false; code: AdmissionRefusal; recheckDue: boolean };

export type AdmissionRefusal =
  /** Nothing admits them: no whitelist flag, no login rule, and no org or team rules to ask about. */
  | 'not_whitelisted'
  /** The last membership check found them in none of the org and team rules. */
  | 'not_a_member'
  /** Their admission rests on a membership GitHub has not confirmed within the hard bound: fail closed. */
  | 'membership_unverified';

/**
 * Whether a person is admitted now, from facts read with their session: the whitelist flag, then a
 * login rule, then the last membership check while it is within the hard bound. `recheckDue`
 * says the check is older than the fresh bound, or older than a change to the rules, and no
 * attempt started in the last RECHECK_RETRY_MS: the caller re-checks after its response.
 */
export function decideAdmission(facts: AdmissionFacts, bounds: MembershipBounds, now = new Date()): AdmissionDecision {
  if (facts.isWhitelisted) return { admitted: true, by: { kind: 'whitelist' }, recheckDue: false };
  if (facts.loginRuleId !== null)
    return { admitted: true, by: { kind: 'rule', ruleId: facts.loginRuleId }, recheckDue: false };
  if (facts.membershipRules === 0) return { admitted: false, code: 'not_whitelisted', recheckDue: false };

  const at = now.getTime();
  const checkedAt = facts.checkedAt?.getTime() ?? null;
  const rulesChanged =
    checkedAt !== null &&
    facts.membershipRulesChangedAt !== null &&
    facts.membershipRulesChangedAt.getTime() > checkedAt;
  const stale = checkedAt === null || at - checkedAt > bounds.freshSeconds * 1000 || rulesChanged;
  const attemptedRecently = facts.attemptedAt !== null && at - facts.attemptedAt.getTime() < RECHECK_RETRY_MS;
  const recheckDue = stale && !attemptedRecently;

  if (checkedAt === null || at - checkedAt > bounds.hardSeconds * 1000) {
    return { admitted: false, code: 'membership_unverified', recheckDue };
  }
  if (facts.admittedByRuleId !== null) {
    return { admitted: true, by: { kind: 'rule', ruleId: facts.admittedByRuleId }, recheckDue };
  }
  return { admitted: false, code: 'not_a_member', recheckDue };
}
