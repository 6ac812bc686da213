import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import { findLiveRules } from '../db/admission-rules.ts';
import type { Database } from '../db/client.ts';
import { claimMembershipCheck, saveMembershipCheck } from '../db/membership-checks.ts';
import { fetchProfile, type GitHubAppCredentials, GitHubError } from '../github/client.ts';
import type { Logger } from '../http/logger.ts';
import { FreshTokenError, freshGitHubAccessToken } from '../users/fresh-github-token.ts';
import { checkMemberships, type MembershipResult } from './check-memberships.ts';
import { RECHECK_RETRY_MS } from './decide.ts';
import { describeRule, isMembershipRule, type MembershipRule } from './rule.ts';

export interface RecheckDeps {
  /** The primary: the claim and the result are writes. */
  db: Database;
  keyring: () => Promise<TokenKeyring>;
  github: GitHubAppCredentials;
  log: Logger;
}

/** Re-checks running in this isolate, by person: a second verify joins the first one's. */
const running = new Map<string, Promise<void>>();

/**
 * Asks GitHub again whether a person is still in an org or team that admits them, after a verify
 * answered from an older result (the caller hands this to waitUntil: nothing of it is on the
 * response path). Single-flight twice over: one per person in the isolate, and one across
 * isolates through the claim on their membership_checks row. The person's token is refreshed
 * first when it is about to expire, under its row lock (one refresh whatever the concurrency).
 * GitHub not answering leaves the last result standing (until MEMBERSHIP_HARD_SECONDS); an answer
 * that ends the membership is recorded as `admission:ended`.
 */
export function recheckMembership(deps: RecheckDeps, userId: string): Promise<void> {
  const current = running.get(userId);
  if (current) return current;
  const started = runRecheck(deps, userId).finally(() => running.delete(userId));
  running.set(userId, started);
  return started;
}

async function runRecheck(deps: RecheckDeps, userId: string): Promise<void> {
  const now = new Date();
  const claimed = await claimMembershipCheck(deps.db, userId, new Date(now.getTime() - RECHECK_RETRY_MS), now);
  if (!claimed) return;
  const rules = (await findLiveRules(deps.db, ['org', 'team'])).filter(isMembershipRule);
  const result = rules.length === 0 ? ({ kind: 'not_member' } as const) : await askGitHub(deps, userId, rules);
  if (result.kind === 'unknown') {
    deps.log.warn('membership.recheck_unanswered', { userId, failure: result.failure });
    await saveMembershipCheck(deps.db, userId, { answered: false, failure: result.failure });
    return;
  }
  const admittedByRuleId = result.kind === 'member' ? result.ruleId : null;
  await deps.db.transaction(async (tx) => {
    const { previousRuleId } = await saveMembershipCheck(tx, userId, { answered: true, admittedByRuleId });
    if (previousRuleId !== null && admittedByRuleId === null) {
      const ended = rules.find((rule) => rule.id === previousRuleId);
      await recordChange(tx, GATEWAY_ORIGIN, {
        action: 'admission:ended',
        subjectUserId: userId,
        code: 'not_a_member',
        details: { rule_id: previousRuleId, ...(ended ? { admits: describeRule(ended) } : {}) },
      });
    }
  });
}

/** The person's memberships, with their own token (refreshed if due) and their login now. */
async function askGitHub(deps: RecheckDeps, userId: string, rules: MembershipRule[]): Promise<MembershipResult> {
  try {
    const token = await freshGitHubAccessToken(
      { db: deps.db, keyring: await deps.keyring(), github: deps.github, log: deps.log },
      userId,
    );
    // Team memberships are asked by login, and logins change: ask GitHub whose token this is.
    const login = rules.some((rule) => rule.kind === 'team')
      ? (await fetchProfile(deps.github, token.accessToken)).login
      : '';
    return await checkMemberships(deps.github, { accessToken: token.accessToken, login }, rules);
  } catch (error) {
    if (error instanceof FreshTokenError) return { kind: 'unknown', failure: error.code };
    if (error instanceof GitHubError) {
      return { kind: 'unknown', failure: error.code === 'bad_credentials' ? 'bad_credentials' : 'github_unreachable' };
    }
    throw error;
  }
}

/** The gateway itself, as the author of what a re-check found. */
const GATEWAY_ORIGIN: ChangeOrigin = {
  actor: { kind: 'gateway' },
  ipAddress: null,
  userAgent: null,
  requestId: null,
  host: null,
};
