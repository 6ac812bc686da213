import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInGitHub, startStandInGitHub } from '../../scripts/lib/dev/stand-in-github.ts';
import type { RuleJson } from '../../src/admission/rule-json.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

const OPERATOR = 'rules-test-operator';

let github: StandInGitHub;
beforeAll(async () => {
  github = await startStandInGitHub({
    clientId: 'Iv1.admission-rules-test',
    clientSecret: 'admission-rules-test-secret',
    callbackUrls: ['http://127.0.0.1/auth/github/callback'],
    memberships: {
      users: ['rule-alice', 'rule-bob'],
      memberships: [
        { org: 'rule-acme', login: 'rule-alice' },
        { org: 'rule-acme', team: 'platform', login: 'rule-alice' },
      ],
    },
  });
});
afterAll(() => github?.close());

/** A rule as the JSON the gateway prints. */
type RuleShape = RuleJson;

const gateway = (url: string, args: string[], env: Record<string, string> = {}) =>
  runOperatorCommand('gateway', args, {
    DATABASE_URL: url,
    GITHUB_API_URL: github.url,
    GATEWAY_OPERATOR: OPERATOR,
    ...env,
  });

const json = <T>(output: string): T => JSON.parse(output) as T;

/** The GitHub id the stand-in gives an organization (its public record). */
async function orgId(org: string): Promise<string> {
  const body = (await (await fetch(`${github.url}/orgs/${org}`)).json()) as { id: number };
  return String(body.id);
}

async function changeRecords(
  url: string,
): Promise<{ action: string; actor: string; name: string | null; details: Record<string, unknown> }[]> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{
      action: string;
      actor: string;
      name: string | null;
      details: Record<string, unknown>;
    }>(
      sql`select action, actor_kind as actor, actor_name as name, details from change_records
           where kind = 'change' order by created_at, id`,
    );
    return result.rows;
  });
}

/** A loopback port nothing listens on: GitHub unreachable. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 9;
}

describe('gateway users allow', () => {
  it('--org admits the members of an organization: prints what it admits, its id, who made it and when, and records users:allow', async () => {
    const url = await createDatabase({ migrated: true });
    const before = Date.now();
    const result = await gateway(url, ['users', 'allow', '--org', 'RULE-ACME']);
    expect(result.code).toBe(0);
    // GitHub's own spelling of the organization, not the operator's.
    expect(result.output).toContain('Now admitted: members of rule-acme.');
    const id = /id {7}([0-9a-f-]{36})/.exec(result.output)?.[1];
    expect(id).toBeDefined();
    expect(result.output).toContain(`made by  ${OPERATOR}`);
    const madeAt = /made at {2}(\S+)/.exec(result.output)?.[1] ?? '';
    expect(Date.parse(madeAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(result.output).toContain('"Members: read"');

    const rules = json<{ rules: RuleShape[] }>((await gateway(url, ['users', 'rules', '--json'])).output).rules;
    expect(rules).toEqual([
      expect.objectContaining({
        id,
        kind: 'org',
        org: 'rule-acme',
        org_id: await orgId('rule-acme'),
        created_by: OPERATOR,
      }),
    ]);
    const records = await changeRecords(url);
    expect(records).toEqual([
      expect.objectContaining({
        action: 'users:allow',
        actor: 'operator',
        name: OPERATOR,
        details: expect.objectContaining({ rule_id: id, rule_kind: 'org', org: 'rule-acme' }),
      }),
    ]);
  });

  it('--team admits the members of a team, named org/team-slug', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await gateway(url, ['users', 'allow', '--team', 'rule-acme/Platform', '--json']);
    expect(result.code).toBe(0);
    const { rule, made } = json<{ rule: RuleShape; made: boolean }>(result.output);
    expect(made).toBe(true);
    expect(rule).toMatchObject({
      kind: 'team',
      admits: 'members of rule-acme/platform',
      org: 'rule-acme',
      org_id: await orgId('rule-acme'),
      team: 'platform',
      github_id: null,
      created_by: OPERATOR,
      removed_at: null,
    });
  });

  it('--login admits one person before their first sign-in, by the GitHub id GitHub gives their login', async () => {
    const url = await createDatabase({ migrated: true });
    const bob = github.addUser('rule-bob');
    const result = await gateway(url, ['users', 'allow', '--login', 'rule-bob', '--json']);
    expect(result.code).toBe(0);
    expect(json<{ rule: RuleShape }>(result.output).rule).toMatchObject({
      kind: 'login',
      admits: `rule-bob (GitHub id ${bob.id})`,
      github_id: String(bob.id),
      login: 'rule-bob',
      org: null,
    });
  });

  it('a rule already live says so, exits 0 and records nothing more', async () => {
    const url = await createDatabase({ migrated: true });
    const first = await gateway(url, ['users', 'allow', '--org', 'rule-acme', '--json']);
    const again = await gateway(url, ['users', 'allow', '--org', 'rule-acme']);
    expect(again.code).toBe(0);
    expect(again.output).toContain('A live rule already admits members of rule-acme; nothing changed.');
    expect(again.output).toContain(json<{ rule: RuleShape }>(first.output).rule.id);
    const repeatJson = json<{ made: boolean }>(
      (await gateway(url, ['users', 'allow', '--org', 'rule-acme', '--json'])).output,
    );
    expect(repeatJson.made).toBe(false);
    expect((await changeRecords(url)).map((record) => record.action)).toEqual(['users:allow']);
  });

  it('an organization GitHub does not know: one line, exit 1, nothing made', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await gateway(url, ['users', 'allow', '--org', 'no-such-org-here']);
    expect(result.code).toBe(1);
    expect(result.output.trim()).toBe('GitHub has no organization with the login no-such-org-here.');
    expect(json<{ rules: RuleShape[] }>((await gateway(url, ['users', 'rules', '--json'])).output).rules).toEqual([]);
  });

  it('a login that is an organization: one line saying to use --org, exit 2', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await gateway(url, ['users', 'allow', '--login', 'rule-acme']);
    expect(result.code).toBe(2);
    expect(result.output.trim()).toBe('rule-acme is a GitHub organization, not a person: use --org rule-acme.');
  });

  it('GitHub unreachable: one line naming the API root it tried (GITHUB_API_URL), exit 1', async () => {
    const url = await createDatabase({ migrated: true });
    const api = `http://127.0.0.1:${await closedPort()}`;
    const result = await gateway(url, ['users', 'allow', '--org', 'rule-acme'], { GITHUB_API_URL: api });
    expect(result.code).toBe(1);
    expect(result.output.trim()).toBe(
      `GitHub could not be reached to look up the organization. Try again. (GitHub API: ${api}; GITHUB_API_URL sets it)`,
    );
  });

  it('refuses two targets, a team without its org, and a GITHUB_API_URL that is not https (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    const two = await gateway(url, ['users', 'allow', '--org', 'rule-acme', '--login', 'rule-bob']);
    expect(two.code).toBe(2);
    expect(two.output).toContain('Name exactly one of --org ORG, --team ORG/TEAM-SLUG or --login LOGIN.');
    expect(two.output).toContain('Usage: gateway users allow --org <org> | --team <org/team-slug> | --login <login>');
    const team = await gateway(url, ['users', 'allow', '--team', 'platform']);
    expect(team.code).toBe(2);
    expect(team.output).toContain('A team is named ORG/TEAM-SLUG');
    const plain = await gateway(url, ['users', 'allow', '--org', 'rule-acme'], {
      GITHUB_API_URL: 'http://github.example',
    });
    expect(plain.code).toBe(2);
    expect(plain.output).toContain('GITHUB_API_URL must be an https URL');
  });

  it('a --login rule keeps the first GitHub id when the login is renamed and then taken by someone else', async () => {
    const url = await createDatabase({ migrated: true });
    const first = github.addUser('rule-renamed');
    const made = json<{ rule: RuleShape }>(
      (await gateway(url, ['users', 'allow', '--login', 'rule-renamed', '--json'])).output,
    ).rule;
    expect(made.github_id).toBe(String(first.id));
    github.renameUser('rule-renamed', 'rule-renamed-later');
    const newcomer = github.addUser('rule-renamed');
    expect(newcomer.id).not.toBe(first.id);

    const listed = json<{ rules: RuleShape[] }>((await gateway(url, ['users', 'rules', '--json'])).output).rules;
    expect(listed).toEqual([
      expect.objectContaining({ id: made.id, github_id: String(first.id), login: 'rule-renamed' }),
    ]);
    // The login now names someone else: a rule for them is another rule, by their own id.
    const second = json<{ rule: RuleShape; made: boolean }>(
      (await gateway(url, ['users', 'allow', '--login', 'rule-renamed', '--json'])).output,
    );
    expect(second.made).toBe(true);
    expect(second.rule.github_id).toBe(String(newcomer.id));
  });
});

describe('gateway users deny', () => {
  it('removes the live rule named by its target, keeps it for the record and records users:deny', async () => {
    const url = await createDatabase({ migrated: true });
    const made = json<{ rule: RuleShape }>(
      (await gateway(url, ['users', 'allow', '--team', 'rule-acme/platform', '--json'])).output,
    ).rule;
    const result = await gateway(url, ['users', 'deny', '--team', 'RULE-ACME/platform']);
    expect(result.code).toBe(0);
    expect(result.output).toContain(`Removed the rule admitting members of rule-acme/platform (id ${made.id}).`);
    expect(json<{ rules: RuleShape[] }>((await gateway(url, ['users', 'rules', '--json'])).output).rules).toEqual([]);
    const kept = await withDatabaseHandle(url, async ({ db }) => {
      const rows = await db.execute<{ removed_by: string | null; removed_at: string | null }>(
        sql`select removed_by, removed_at from admission_rules where id = ${made.id}`,
      );
      return rows.rows[0];
    });
    expect(kept?.removed_by).toBe(OPERATOR);
    expect(kept?.removed_at).not.toBeNull();
    const records = await changeRecords(url);
    expect(records.map((record) => [record.action, record.name, record.details.rule_id])).toEqual([
      ['users:allow', OPERATOR, made.id],
      ['users:deny', OPERATOR, made.id],
    ]);
  });

  it('removes a rule by --id, and --json prints the rule as removed', async () => {
    const url = await createDatabase({ migrated: true });
    github.addUser('rule-alice');
    const made = json<{ rule: RuleShape }>(
      (await gateway(url, ['users', 'allow', '--login', 'rule-alice', '--json'])).output,
    ).rule;
    const result = await gateway(url, ['users', 'deny', '--id', made.id, '--json']);
    expect(result.code).toBe(0);
    const { rule } = json<{ rule: RuleShape }>(result.output);
    expect(rule).toMatchObject({ id: made.id, kind: 'login', removed_by: OPERATOR });
    expect(Date.parse(rule.removed_at ?? '')).not.toBeNaN();
  });

  it('with no live rule matching: one line naming `gateway users rules`, exit 1', async () => {
    const url = await createDatabase({ migrated: true });
    const byTarget = await gateway(url, ['users', 'deny', '--org', 'rule-acme']);
    expect(byTarget.code).toBe(1);
    expect(byTarget.output.trim()).toBe('No live rule admits members of rule-acme: `gateway users rules` lists them.');
    const byId = await gateway(url, ['users', 'deny', '--id', '00000000-0000-4000-8000-000000000000']);
    expect(byId.code).toBe(1);
    expect(byId.output).toContain('`gateway users rules` lists them.');
    const both = await gateway(url, ['users', 'deny', '--id', 'x', '--org', 'rule-acme']);
    expect(both.code).toBe(2);
  });

  it('says in its help that it removes an allow rule, not an exclusion, and that the whitelist flag stays', async () => {
    const result = await runOperatorCommand('gateway', ['users', 'deny', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.output).toContain('remove an allow rule (it is not an exclusion');
    expect(result.output).toContain('`users unwhitelist` for that');
  });
});

describe('gateway users rules', () => {
  it('lists the live rules in a table: id, kind, what it admits, the GitHub id, who made it and when', async () => {
    const url = await createDatabase({ migrated: true });
    const alice = github.addUser('rule-alice');
    const org = json<{ rule: RuleShape }>(
      (await gateway(url, ['users', 'allow', '--org', 'rule-acme', '--json'])).output,
    ).rule;
    const person = json<{ rule: RuleShape }>(
      (await gateway(url, ['users', 'allow', '--login', 'rule-alice', '--json'])).output,
    ).rule;
    const result = await gateway(url, ['users', 'rules']);
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +KIND +ADMITS +GITHUB ID +MADE BY +MADE AT$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${org.id} +org +members of rule-acme +${await orgId('rule-acme')} +${OPERATOR} +${org.created_at}$`),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${person.id} +login +rule-alice \\(GitHub id ${alice.id}\\) +${alice.id} +${OPERATOR} +${person.created_at}$`,
      ),
    );
    expect((lines[2] ?? '').indexOf(OPERATOR)).toBe((lines[0] ?? '').indexOf('MADE BY'));
    expect(result.output).toContain('2 rules.');
  });

  it('with no rules, says how to make one', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await gateway(url, ['users', 'rules']);
    expect(result.code).toBe(0);
    expect(result.output).toContain('No admission rules');
    expect(result.output).toContain('npx gateway users allow --org <org> | --team <org/team-slug> | --login <login>');
  });
});
