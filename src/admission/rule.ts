import type { ChangeOrigin } from '../changes/origin.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { GITHUB_LOGIN_PATTERN } from '../validation/github-identity.ts';

/** The kinds of admission rule, besides the per-person whitelist flag. */
export const RULE_KINDS = ['org', 'team', 'login'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** What an operator names when making or removing a rule, before GitHub resolves it. */
export type RuleTarget =
  | { kind: 'org'; org: string }
  | { kind: 'team'; org: string; team: string }
  | { kind: 'login'; login: string };

/** A rule as the gateway keeps it: resolved to GitHub ids when it was made. */
export interface AdmissionRule {
  id: string;
  kind: RuleKind;
  /** org and team rules: the organization's login (as GitHub spelled it) and id. */
  orgLogin: string | null;
  orgId: string | null;
  /** team rules: the team's slug. */
  teamSlug: string | null;
  /** login rules: the person's GitHub id, and their login when the rule was made. */
  githubUserId: string | null;
  githubLogin: string | null;
  createdAt: Date;
  createdBy: string;
  removedAt: Date | null;
  removedBy: string | null;
}

/** The rules GitHub must be asked about (an org or team membership), as opposed to login rules. */
export type MembershipRule = AdmissionRule & { kind: 'org' | 'team'; orgLogin: string };

export function isMembershipRule(rule: AdmissionRule): rule is MembershipRule {
  return (rule.kind === 'org' || rule.kind === 'team') && rule.orgLogin !== null;
}

/** A team slug as GitHub makes them: lowercase letters, digits, hyphens and underscores. */
const TEAM_SLUG_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

export class RuleInputError extends GatewayError<'invalid_rule'> {
  constructor(message: string) {
    super('invalid_rule', 'input', message);
  }
}

/**
 * The target of `--org X | --team X/Y | --login L` (or the admin API's body): exactly one, each
 * shaped as GitHub names them. Org logins follow the person-login shape.
 */
export function parseRuleTarget(input: { org?: string; team?: string; login?: string }): RuleTarget {
  const given = (['org', 'team', 'login'] as const).filter((key) => input[key] !== undefined);
  if (given.length !== 1)
    throw new RuleInputError('Name exactly one of --org ORG, --team ORG/TEAM-SLUG or --login LOGIN.');
  if (input.org !== undefined) return { kind: 'org', org: accountName(input.org, 'organization') };
  if (input.login !== undefined) return { kind: 'login', login: accountName(input.login, 'login') };
  const [org, team, ...rest] = (input.team ?? '').split('/');
  if (org === undefined || team === undefined || rest.length > 0 || !TEAM_SLUG_PATTERN.test(team)) {
    throw new RuleInputError(
      "A team is named ORG/TEAM-SLUG, for example acme/platform (the slug is in the team page's URL).",
    );
  }
  return { kind: 'team', org: accountName(org, 'organization'), team: team.toLowerCase() };
}

function accountName(value: string, what: 'organization' | 'login'): string {
  if (!GITHUB_LOGIN_PATTERN.test(value)) {
    throw new RuleInputError(
      `That is not a GitHub ${what}: 1-39 letters, digits and hyphens, not starting with a hyphen.`,
    );
  }
  return value;
}

/** The one spelling a live rule has, so the same rule cannot be made twice (a unique index). */
export function ruleTargetKey(rule: Pick<AdmissionRule, 'kind' | 'orgId' | 'teamSlug' | 'githubUserId'>): string {
  switch (rule.kind) {
    case 'org':
      return `org:${rule.orgId}`;
    case 'team':
      return `team:${rule.orgId}/${rule.teamSlug}`;
    case 'login':
      return `login:${rule.githubUserId}`;
  }
}

/** What the rule admits, in words: "members of acme", "members of acme/platform", "alice (GitHub id 7)". */
export function describeRule(rule: AdmissionRule): string {
  switch (rule.kind) {
    case 'org':
      return `members of ${rule.orgLogin}`;
    case 'team':
      return `members of ${rule.orgLogin}/${rule.teamSlug}`;
    case 'login':
      return `${rule.githubLogin ?? 'the person'} (GitHub id ${rule.githubUserId})`;
  }
}

/**
 * Who a rule's `created_by` / `removed_by` names: the operator (a command), the admin API's
 * service, or the person (an operator in the console) by user id, as a service is by its id.
 */
export function ruleAuthor(origin: ChangeOrigin): string {
  switch (origin.actor.kind) {
    case 'operator':
      return origin.actor.name;
    case 'service':
      return `service:${origin.actor.serviceId}`;
    case 'person':
      return origin.actor.userId ? `person:${origin.actor.userId}` : 'gateway';
    default:
      return 'gateway';
  }
}
