import { TtlCache } from '../cache/ttl-cache.ts';
import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import { findLiveRules } from '../db/admission-rules.ts';
import type { Database } from '../db/client.ts';
import { claimMembershipCheck, saveMembershipCheck } from '../db/membership-checks.ts';
import { findUserById } from '../db/users.ts';
import { emitAdmissionEnded } from '../events/emit.ts';
import { fetchProfile, type GitHubAppCredentials, GitHubError } from '../github/client.ts';
import type { MembershipFailure } from '../github/memberships.ts';
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
  /**
   * Starts delivering the events a re-check wrote (`admission.ended`); awaited, since the re-check
   * itself already runs after the response. Without it they wait for the sweep.
   */
  deliver?: (eventIds: string[]) => Promise<void>;
}

/** Re-checks running in this isolate, by person: a second verify joins the first one's. */
const running = new Map<string, Promise<void>>();
/**
 * People this isolate started a re-check for in the last RECHECK_RETRY_MS, with the attempt time
 * the verify that asked for it had read. Cached session rows (and a lagging replica) still show
 * that old attempt until VERIFY_CACHE_SECONDS pass; without this, each of those verifies would
 * spend a claim write only to find the row claimed. A verify that read another attempt time has
 * seen the row since, and goes on to the claim.
 */
const startedHere = new TtlCache<number>();

/**
 * Asks GitHub again whether a person is still in an org or team that admits them, after a verify
 * answered from an older result (the caller hands this to waitUntil: nothing of it is on the
 * response path). Single-flight twice over: one per person in the isolate, and one across
 * isolates through the claim on their membership_checks row. The person's token is refreshed
 * first when it is about to expire, under its row lock (one refresh whatever the concurrency).
 * GitHub not answering leaves the last result standing (until MEMBERSHIP_HARD_SECONDS); an answer
 * that ends the membership is recorded as `admission:ended`.
 */
export function recheckMembership(deps: RecheckDeps, userId: string, seenAttemptedAt: Date | null): Promise<void> {
  const current = running.get(userId);
  if (current) return current;
  const seen = seenAttemptedAt?.getTime() ?? 0;
  if (startedHere.get(userId) === seen) return Promise.resolve();
  startedHere.set(userId, seen, RECHECK_RETRY_MS);
  const started = runRecheck(deps, userId).finally(() => running.delete(userId));
  running.set(userId, started);
  return started;
}

async function runRecheck(deps: RecheckDeps, userId: string): Promise<void> {
  const now = new Date();
  const claimed = await claimMembershipCheck(deps.db, userId, new Date(now.getTime() - RECHECK_RETRY_MS), now);
  if (!claimed) return;
  const askedAt = new Date();
  const rules = (await findLiveRules(deps.db, ['org', 'team'])).filter(isMembershipRule);
  const result = rules.length === 0 ? ({ kind: 'not_member' } as const) : await askGitHub(deps, userId, rules);
  if (result.kind === 'unknown') {
    deps.log.warn('membership.recheck_unanswered', { userId, failure: result.failure });
    // GitHub down keeps the last answer until the hard bound; the person's own token refused
    // (revoked, refresh refused) ends it now: they could otherwise keep it by revoking the app.
    const forget = TOKEN_FAILURES.has(result.failure);
    if (!forget) {
      await saveMembershipCheck(deps.db, userId, { answered: false, failure: result.failure, forget });
      return;
    }
    const forgotten = await forgetMembership(deps.db, userId, result.failure);
    if (forgotten.length > 0) await deps.deliver?.(forgotten);
    return;
  }
  const admittedByRuleId = result.kind === 'member' ? result.ruleId : null;
  const eventIds = await deps.db.transaction(async (tx) => {
    const { previousRuleId } = await saveMembershipCheck(tx, userId, { answered: true, admittedByRuleId, askedAt });
    if (previousRuleId === null || admittedByRuleId !== null) return [];
    const ended = rules.find((rule) => rule.id === previousRuleId);
    await recordChange(tx, GATEWAY_ORIGIN, {
      action: 'admission:ended',
      subjectUserId: userId,
      code: 'not_a_member',
      details: { rule_id: previousRuleId, ...(ended ? { admits: describeRule(ended) } : {}) },
    });
    // The services they signed in through learn it too (docs/api.md, "Events pushed to your service").
    return emitAdmissionEnded(tx, { userId, reason: 'not_a_member' });
  });
  if (eventIds.length > 0) await deps.deliver?.(eventIds);
}

/**
 * Forgets the person's last membership answer (their own token is refused). When that answer was
 * all that admitted them, their admission ends now (verify answers `membership_unverified`):
 * recorded as `admission:ended`, and the services they signed in through get `admission.ended`,
 * in the same transaction. Returns the events written.
 */
async function forgetMembership(db: Database, userId: string, failure: MembershipFailure): Promise<string[]> {
  return db.transaction(async (tx) => {
    const before = (await findUserById(tx, userId))?.admission;
    await saveMembershipCheck(tx, userId, { answered: false, failure, forget: true });
    const admittedOnlyByMembership =
      before && !before.isWhitelisted && before.loginRuleId === null && before.admittedByRuleId !== null;
    if (!before || !admittedOnlyByMembership || before.checkedAt === null) return [];
    await recordChange(tx, GATEWAY_ORIGIN, {
      action: 'admission:ended',
      subjectUserId: userId,
      code: 'membership_unverified',
      details: { rule_id: before.admittedByRuleId, failure },
    });
    return emitAdmissionEnded(tx, { userId, reason: 'membership_unverified' });
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

/** Failures that say the person's own token no longer works, rather than that GitHub is away. */
const TOKEN_FAILURES: ReadonlySet<MembershipFailure> = new Set(['bad_credentials', 'no_token', 'refresh_failed']);

/** The gateway itself, as the author of what a re-check found. */
const GATEWAY_ORIGIN: ChangeOrigin = {
  actor: { kind: 'gateway' },
  ipAddress: null,
  userAgent: null,
  requestId: null,
  host: null,
};
