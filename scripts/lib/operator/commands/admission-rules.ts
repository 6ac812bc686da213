import type { Command } from 'commander';
import { allowByRule, listRules, removeRule } from '../../../../src/admission/manage-rules.ts';
import { type AdmissionRule, describeRule, parseRuleTarget, RuleInputError } from '../../../../src/admission/rule.ts';
import { ruleJson } from '../../../../src/admission/rule-json.ts';
import { GitHubError } from '../../../../src/github/client.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { jsonForTerminal, runCommand, UsageError } from '../cli.ts';
import { operatorGitHubEndpoints } from '../github-endpoints.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { operatorOrigin } from '../operator-origin.ts';
import { count, formatTable, usageLine } from './shared.ts';

const TARGET_USAGE = '--org <org> | --team <org/team-slug> | --login <login>';
const ALLOW_HINT = `npx gateway users allow ${TARGET_USAGE}`;

interface TargetFlags {
  org?: string;
  team?: string;
  login?: string;
  json: boolean;
}

/** `gateway users allow | deny | rules`: admission by organization, team or login, besides the whitelist flag. */
export function addRuleCommands(users: Command): void {
  addAllowCommand(users);
  addDenyCommand(users);
  addRulesCommand(users);
}

function targetOptions(command: Command): Command {
  return command
    .option('--org <org>', 'the members of a GitHub organization (its login, as in github.com/<org>)')
    .option('--team <org/team-slug>', "the members of a team (the slug is in the team page's URL)")
    .option('--login <login>', 'one person, before or after their first sign-in (kept as their GitHub id)');
}

/** The target the flags name, or a usage error carrying the command's usage line (exit 2). */
function targetFrom(flags: TargetFlags, usage: string) {
  try {
    return parseRuleTarget(flags);
  } catch (error) {
    if (error instanceof RuleInputError) throw new UsageError(`${error.message}\nUsage: ${usage}`);
    throw error;
  }
}

function addAllowCommand(users: Command): void {
  targetOptions(
    users
      .command('allow')
      .description(
        'admit the members of an organization or team, or one person by login (resolved to their GitHub id now, through GitHub)',
      )
      .usage(`${TARGET_USAGE} [--json]`),
  )
    .option('--json', "print JSON (the admin API's fields: rule, made)", false)
    .action((flags: TargetFlags, command: Command) =>
      runCommand(async () => {
        const target = targetFrom(flags, usageLine(command));
        const github = operatorGitHubEndpoints();
        const { rule, made } = await withOperatorDatabase(({ db }) =>
          allowByRule({ db, github }, target, operatorOrigin()),
        ).catch((error: unknown) => {
          // The operator may have pointed the command at the wrong GitHub: say which one it asked.
          if (error instanceof GitHubError) error.message += ` (GitHub API: ${github.apiUrl}; GITHUB_API_URL sets it)`;
          throw error;
        });
        if (flags.json) {
          console.log(jsonForTerminal({ rule: ruleJson(rule), made }));
          return 0;
        }
        console.log(
          escapeControl(
            made
              ? `Now admitted: ${describeRule(rule)}.`
              : `A live rule already admits ${describeRule(rule)}; nothing changed.`,
          ),
        );
        console.log(ruleFacts(rule));
        if (made && rule.kind !== 'login')
          console.log(
            'Membership is checked with each person\'s own GitHub token at sign-in and while signed in: the GitHub App needs the organization permission "Members: read".',
          );
        return 0;
      }),
    );
}

function addDenyCommand(users: Command): void {
  targetOptions(
    users
      .command('deny')
      .description(
        'remove an allow rule (it is not an exclusion: someone the whitelist flag admits stays admitted; `users unwhitelist` for that)',
      )
      .usage(`${TARGET_USAGE} | --id <rule id> [--json]`),
  )
    .option('--id <rule id>', 'the rule by its id (`npx gateway users rules` lists them)')
    .option('--json', "print JSON (the admin API's fields: rule)", false)
    .action((flags: TargetFlags & { id?: string }, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        const { id, json: _json, ...named } = flags;
        if (id !== undefined && Object.values(named).some((value) => value !== undefined))
          throw new UsageError(`Name the rule by --id or by its target, not both.\nUsage: ${usage}`);
        const which = id !== undefined ? { id } : targetFrom(flags, usage);
        const rule = await withOperatorDatabase(({ db }) => removeRule(db, which, operatorOrigin()));
        if (flags.json) {
          console.log(jsonForTerminal({ rule: ruleJson(rule) }));
          return 0;
        }
        console.log(escapeControl(`Removed the rule admitting ${describeRule(rule)} (id ${rule.id}).`));
        console.log(
          'People it admitted are refused from their next verify (past the verify cache), unless another rule or the whitelist flag admits them.',
        );
        return 0;
      }),
    );
}

function addRulesCommand(users: Command): void {
  users
    .command('rules')
    .description('the live admission rules: what each admits, who made it and when')
    .usage('[--json]')
    .option('--json', "print JSON (the admin API's fields: rules)", false)
    .action((flags: { json: boolean }) =>
      runCommand(async () => {
        const rules = await withOperatorDatabase(({ db }) => listRules(db));
        if (flags.json) {
          console.log(jsonForTerminal({ rules: rules.map(ruleJson) }));
          return 0;
        }
        if (rules.length === 0) {
          console.log(`No admission rules: only people with the whitelist flag are admitted. Make one: ${ALLOW_HINT}`);
          return 0;
        }
        // Every cell is escaped (formatTable): a name planted in the database cannot forge a row.
        console.log(
          formatTable(
            ['ID', 'KIND', 'ADMITS', 'GITHUB ID', 'MADE BY', 'MADE AT'],
            rules.map((rule) => [
              rule.id,
              rule.kind,
              describeRule(rule),
              (rule.kind === 'login' ? rule.githubUserId : rule.orgId) ?? '-',
              rule.createdBy,
              rule.createdAt.toISOString(),
            ]),
          ),
        );
        console.log(`\n${count(rules.length, 'rule')}.`);
        return 0;
      }),
    );
}

/** The rule's id, who made it and when (the author is from the database: escaped). */
function ruleFacts(rule: AdmissionRule): string {
  return [
    `  id       ${rule.id}`,
    `  made by  ${escapeControl(rule.createdBy)}`,
    `  made at  ${rule.createdAt.toISOString()}`,
  ].join('\n');
}
