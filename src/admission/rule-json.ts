import { type AdmissionRule, describeRule } from './rule.ts';

/** A rule as JSON: what the admin API and the commands' `--json` print. */
export type RuleJson = ReturnType<typeof ruleJson>;

/** A rule as the admin API and `--json` show it (snake_case, like every other shape). */
export function ruleJson(rule: AdmissionRule) {
  return {
    id: rule.id,
    kind: rule.kind,
    admits: describeRule(rule),
    org: rule.orgLogin,
    org_id: rule.orgId,
    team: rule.teamSlug,
    github_id: rule.githubUserId,
    login: rule.githubLogin,
    created_at: rule.createdAt.toISOString(),
    created_by: rule.createdBy,
    removed_at: rule.removedAt?.toISOString() ?? null,
    removed_by: rule.removedBy,
  };
}
