import type { ChangeOrigin } from '../changes/origin.ts';
import { type ChangeDetails, recordChange } from '../changes/record.ts';
import { findLiveRules, insertRule, markRuleRemoved } from '../db/admission-rules.ts';
import type { Database } from '../db/client.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { GitHubEndpoints } from '../github/client.ts';
import { lookupOrganization, lookupUser } from '../github/lookups.ts';
import { type AdmissionRule, describeRule, type RuleTarget, ruleAuthor, ruleTargetKey } from './rule.ts';

export type RuleErrorCode = 'unknown_github_account' | 'not_a_person' | 'no_such_rule' | 'ambiguous_rule';

const RULE_ERROR_KINDS = {
  unknown_github_account: 'not_found',
  not_a_person: 'input',
  no_such_rule: 'not_found',
  ambiguous_rule: 'conflict',
} as const;

/** GitHub has no such organization or person, or no live rule (or several) names what was given. */
export class RuleError extends GatewayError<RuleErrorCode> {
  constructor(code: RuleErrorCode, message: string) {
    super(code, RULE_ERROR_KINDS[code], message);
  }
}

/**
 * Makes an admission rule, resolved through GitHub's public API first: an organization to its id,
 * a login to the person's GitHub id (so a later rename or reuse of the login moves nothing). A
 * rule already live for the same target comes back with `made: false`, and nothing is recorded.
 */
export async function allowByRule(
  deps: { db: Database; github: GitHubEndpoints },
  target: RuleTarget,
  origin: ChangeOrigin,
): Promise<{ rule: AdmissionRule; made: boolean }> {
  const resolved = await resolveTarget(deps.github, target);
  const rule = { ...resolved, createdBy: ruleAuthor(origin) };
  return deps.db.transaction(async (tx) => {
    const result = await insertRule(tx, { ...rule, target: ruleTargetKey(rule) });
    if (result.made) await recordChange(tx, origin, { action: 'users:allow', details: ruleDetails(result.rule) });
    return result;
  });
}

/**
 * Removes the live rule with this id, or the one naming this target as it was recorded (a login
 * rule by the login it was made with, so an operator need not know the id), keeping it for the
 * record. People it admitted are refused from their next verify (past the verify cache).
 */
export async function removeRule(
  db: Database,
  which: { id: string } | RuleTarget,
  origin: ChangeOrigin,
): Promise<AdmissionRule> {
  return db.transaction(async (tx) => {
    const matching = (await findLiveRules(tx)).filter((candidate) => matches(candidate, which));
    if (matching.length > 1 && !('id' in which)) {
      // Two login rules made when the login was one person's, then another's: say which.
      throw new RuleError(
        'ambiguous_rule',
        `${matching.length} live rules were made for ${targetWords(which)} (GitHub ids ${matching.map((rule) => rule.githubUserId).join(', ')}): remove one with --id (${matching.map((rule) => rule.id).join(', ')}).`,
      );
    }
    const [rule] = matching;
    const removed = rule ? await markRuleRemoved(tx, rule.id, ruleAuthor(origin)) : null;
    if (!removed) {
      throw new RuleError(
        'no_such_rule',
        `No live rule ${'id' in which ? `has the id ${which.id}` : `admits ${targetWords(which)}`}: \`gateway users rules\` lists them.`,
      );
    }
    await recordChange(tx, origin, { action: 'users:deny', details: ruleDetails(removed) });
    return removed;
  });
}

/** The live rules, oldest first. */
export function listRules(db: Database): Promise<AdmissionRule[]> {
  return findLiveRules(db);
}

type ResolvedRule = Omit<AdmissionRule, 'id' | 'createdAt' | 'createdBy' | 'removedAt' | 'removedBy'>;

async function resolveTarget(github: GitHubEndpoints, target: RuleTarget): Promise<ResolvedRule> {
  const none = { orgLogin: null, orgId: null, teamSlug: null, githubUserId: null, githubLogin: null };
  if (target.kind === 'login') {
    const account = await lookupUser(github, target.login);
    if (!account)
      throw new RuleError('unknown_github_account', `GitHub has no account with the login ${target.login}.`);
    if (account.type === 'Organization') {
      throw new RuleError(
        'not_a_person',
        `${account.login} is a GitHub organization, not a person: use --org ${account.login}.`,
      );
    }
    if (account.type !== 'User') {
      throw new RuleError(
        'not_a_person',
        `${account.login} is not a person's account (a bot or an app): nobody signs in as it.`,
      );
    }
    return { ...none, kind: 'login', githubUserId: account.id, githubLogin: account.login };
  }
  const org = await lookupOrganization(github, target.org);
  if (!org) throw new RuleError('unknown_github_account', `GitHub has no organization with the login ${target.org}.`);
  const orgFields = { orgLogin: org.login, orgId: org.id };
  return target.kind === 'org'
    ? { ...none, ...orgFields, kind: 'org' }
    : { ...none, ...orgFields, kind: 'team', teamSlug: target.team };
}

function matches(rule: AdmissionRule, which: { id: string } | RuleTarget): boolean {
  if ('id' in which) return rule.id === which.id;
  if (rule.kind !== which.kind) return false;
  const same = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
  switch (which.kind) {
    case 'org':
      return same(rule.orgLogin, which.org);
    case 'team':
      return same(rule.orgLogin, which.org) && same(rule.teamSlug, which.team);
    case 'login':
      return same(rule.githubLogin, which.login);
  }
}

function targetWords(target: RuleTarget): string {
  switch (target.kind) {
    case 'org':
      return `members of ${target.org}`;
    case 'team':
      return `members of ${target.org}/${target.team}`;
    case 'login':
      return target.login;
  }
}

/** What a rule's change record says: names and GitHub ids, never more. */
export function ruleDetails(rule: AdmissionRule): ChangeDetails {
  return {
    rule_id: rule.id,
    rule_kind: rule.kind,
    admits: describeRule(rule),
    ...(rule.orgId !== null ? { org: rule.orgLogin, org_id: rule.orgId } : {}),
    ...(rule.teamSlug !== null ? { team: rule.teamSlug } : {}),
    ...(rule.githubUserId !== null ? { github_id: rule.githubUserId, login: rule.githubLogin } : {}),
  };
}
