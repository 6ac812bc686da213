import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ruleTargetKey } from '../../src/admission/rule.ts';
import { insertRule, type NewAdmissionRule } from '../../src/db/admission-rules.ts';
import { saveMembershipCheck } from '../../src/db/membership-checks.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

/** A person as sign-in leaves them: a row with their GitHub id, login and sign-in time. */
async function addPerson(
  url: string,
  person: { login: string | null; githubId: string; whitelisted?: boolean; lastSignIn?: string | null },
): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into users (id, github_user_id, github_login, is_whitelisted, last_sign_in_at, created_at, updated_at)
          values (gen_random_uuid(), ${person.githubId}, ${person.login}, ${person.whitelisted ?? false},
                  ${person.lastSignIn ?? null}, now(), now())
          returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

async function addService(url: string, identifier: string): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into service_registry (id, service_identifier, display_name, api_key_hash, created_at, updated_at)
          values (gen_random_uuid(), ${identifier}, ${identifier}, 'unused', now(), now()) returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

/** A session expiring `inSeconds` from now (negative: already expired). */
async function addSession(url: string, userId: string, serviceId: string | null, inSeconds: number): Promise<void> {
  await withDatabaseHandle(url, ({ db }) =>
    db.execute(sql`insert into sessions (id, user_id, service_id, expires_at, created_at)
                   values (gen_random_uuid(), ${userId}, ${serviceId},
                           (now() at time zone 'utc') + make_interval(secs => ${inSeconds}), now())`),
  );
}

const whitelisted = (url: string, githubId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ allowed: boolean }>(
      sql`select is_whitelisted as allowed from users where github_user_id = ${githubId}`,
    );
    return result.rows[0]?.allowed;
  });

const gateway = (url: string, args: string[]) => runOperatorCommand('gateway', args, { DATABASE_URL: url });

describe('gateway users list', () => {
  it('shows each person: admitted by the whitelist or not, last sign-in, live sessions per service, in an aligned table', async () => {
    const url = await createDatabase({ migrated: true });
    const [appA, appB] = [await addService(url, 'app-a'), await addService(url, 'app-b')];
    const mona = await addPerson(url, {
      login: 'mona',
      githubId: '101',
      whitelisted: true,
      lastSignIn: '2026-11-30T10:00:00Z',
    });
    await addPerson(url, { login: 'hubot', githubId: '202', lastSignIn: '2026-11-30T11:00:00Z' });
    await addSession(url, mona, appA, 600);
    await addSession(url, mona, appA, 3600);
    await addSession(url, mona, appB, 60);
    await addSession(url, mona, appB, -60);

    const result = await gateway(url, ['users', 'list']);
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LOGIN +GITHUB ID +USER ID +ADMITTED +LAST SIGN-IN +LIVE SESSIONS$/);
    // Newest sign-in first; every column starts where its header does.
    const hubot = lines[1] ?? '';
    const monaLine = lines[2] ?? '';
    expect(hubot).toMatch(/^hubot +202 +[0-9a-f-]{36} +no \(not_whitelisted\) +2026-11-30T11:00:00.000Z +-$/);
    expect(monaLine).toMatch(new RegExp(`${mona}  yes \\(whitelist\\) +2026-11-30T10:00:00.000Z  app-a: 2 until `));
    expect(monaLine).toContain(', app-b: 1 until ');
    expect(monaLine.indexOf('yes (whitelist)')).toBe((lines[0] ?? '').indexOf('ADMITTED'));
    expect(result.output).toContain('2 people, 1 not admitted.');
    expect(result.output).not.toContain('never-signed-in');
  });

  it('--json prints the admin API shape, snake_case', async () => {
    const url = await createDatabase({ migrated: true });
    const app = await addService(url, 'app-a');
    const id = await addPerson(url, { login: 'mona', githubId: '101', whitelisted: true, lastSignIn: null });
    await addSession(url, id, app, 600);
    await addSession(url, id, null, 600);
    const result = await gateway(url, ['users', 'list', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.output) as { people: Record<string, unknown>[]; next_cursor: string | null };
    expect(body.next_cursor).toBeNull();
    expect(body.people).toEqual([
      {
        id,
        github_id: '101',
        login: 'mona',
        admitted: true,
        admitted_by: { kind: 'whitelist' },
        refused_code: null,
        membership_checked_at: null,
        last_sign_in_at: null,
        first_seen_at: expect.any(String),
        sessions: [
          { service: null, live: 1, latest_expires_at: expect.any(String) },
          { service: 'app-a', live: 1, latest_expires_at: expect.any(String) },
        ],
      },
    ]);
  });

  it('--pending lists the people refused, newest attempt first, and ends with the command to let them in', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'older', githubId: '1', lastSignIn: '2026-11-29T09:00:00Z' });
    await addPerson(url, { login: 'newer', githubId: '2', lastSignIn: '2026-11-30T09:00:00Z' });
    await addPerson(url, { login: 'allowed', githubId: '3', whitelisted: true, lastSignIn: '2026-11-30T12:00:00Z' });
    // A login planted with shell syntax is named by id in the command.
    await addPerson(url, { login: 'x;rm -rf ~', githubId: '4', lastSignIn: '2026-11-28T09:00:00Z' });
    const result = await gateway(url, ['users', 'list', '--pending']);
    expect(result.code).toBe(0);
    const logins = result.output
      .split('\n')
      .slice(1, 4)
      .map((line) => line.split(/ {2,}/)[0]);
    expect(logins).toEqual(['newer', 'older', 'x;rm -rf ~']);
    expect(result.output).not.toMatch(/^allowed /m);
    expect(result.output).toContain('3 people waiting to be let in.');
    expect(result.output.trimEnd().split('\n').at(-1)).toBe(
      'To let them in: npx gateway users whitelist newer older --github-id 4',
    );
  });

  it('--pending with no one waiting says so', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'allowed', githubId: '3', whitelisted: true });
    const result = await gateway(url, ['users', 'list', '--pending']);
    expect(result.code).toBe(0);
    expect(result.output.trim()).toBe('No one is waiting to be let in.');
  });
});

/** A rule made directly with the db functions, as the rule commands would (resolved to GitHub ids). */
async function addRule(url: string, fields: Omit<NewAdmissionRule, 'target' | 'createdBy'>): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const made = await insertRule(db, { ...fields, target: ruleTargetKey(fields), createdBy: 'test-operator' });
    return made.rule.id;
  });
}

const loginRule = (githubUserId: string, githubLogin: string) =>
  ({ kind: 'login', githubUserId, githubLogin, orgLogin: null, orgId: null, teamSlug: null }) as const;
const orgRule = (orgLogin: string, orgId: string) =>
  ({ kind: 'org', orgLogin, orgId, teamSlug: null, githubUserId: null, githubLogin: null }) as const;

/** The last membership check of a person: GitHub found them through `ruleId`, or in no rule (null). */
const addCheck = (url: string, userId: string, ruleId: string | null, at: Date) =>
  withDatabaseHandle(url, ({ db }) =>
    saveMembershipCheck(db, userId, { answered: true, admittedByRuleId: ruleId, askedAt: at }, at),
  );

/** Five people, each admitted or refused by a different check, signed in a minute apart. */
async function peopleUnderRules(url: string) {
  const checkedAt = new Date(Date.now() - 5 * 60_000);
  const staleAt = new Date(Date.now() - 2 * 3_600_000);
  await addPerson(url, { login: 'flagged', githubId: '1', whitelisted: true, lastSignIn: '2026-11-30T10:01:00Z' });
  await addPerson(url, { login: 'alice', githubId: '7', lastSignIn: '2026-11-30T10:02:00Z' });
  const member = await addPerson(url, { login: 'member', githubId: '8', lastSignIn: '2026-11-30T10:03:00Z' });
  const outsider = await addPerson(url, { login: 'outsider', githubId: '9', lastSignIn: '2026-11-30T10:04:00Z' });
  const stale = await addPerson(url, { login: 'stale', githubId: '10', lastSignIn: '2026-11-30T10:05:00Z' });
  const aliceRule = await addRule(url, loginRule('7', 'alice'));
  const acmeRule = await addRule(url, orgRule('acme', '4242'));
  await addCheck(url, member, acmeRule, checkedAt);
  await addCheck(url, outsider, null, checkedAt);
  // A member two hours ago, unconfirmed since: past the hard bound (MEMBERSHIP_HARD_SECONDS, an hour).
  await addCheck(url, stale, acmeRule, staleAt);
  return { aliceRule, acmeRule, checkedAt, staleAt };
}

describe('gateway users list with admission rules', () => {
  it('says why each person is admitted (whitelist, a login rule, an org rule with its check time) or the code refusing them', async () => {
    const url = await createDatabase({ migrated: true });
    const { checkedAt, staleAt } = await peopleUnderRules(url);
    const result = await gateway(url, ['users', 'list']);
    expect(result.code).toBe(0);
    const admitted = Object.fromEntries(
      result.output
        .trimEnd()
        .split('\n')
        .slice(1, 6)
        .map((line) => {
          const cells = line.split(/ {2,}/);
          return [cells[0], cells[3]];
        }),
    );
    expect(admitted).toEqual({
      flagged: 'yes (whitelist)',
      alice: 'yes (alice (GitHub id 7))',
      member: `yes (members of acme, checked ${checkedAt.toISOString()})`,
      outsider: `no (not_a_member, checked ${checkedAt.toISOString()})`,
      stale: `no (membership_unverified, checked ${staleAt.toISOString()})`,
    });
    expect(result.output).toContain('5 people, 2 not admitted.');
  });

  it('--pending lists only the people no rule admits, newest sign-in first', async () => {
    const url = await createDatabase({ migrated: true });
    await peopleUnderRules(url);
    // Signed in last, never checked: refused until a check succeeds.
    await addPerson(url, { login: 'unchecked', githubId: '11', lastSignIn: '2026-11-30T10:06:00Z' });
    const result = await gateway(url, ['users', 'list', '--pending']);
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split('\n');
    expect(
      lines.slice(1, 4).map((line) =>
        line
          .split(/ {2,}/)
          .slice(0, 1)
          .concat(line.split(/ {2,}/)[3] ?? ''),
      ),
    ).toEqual([
      ['unchecked', 'no (membership_unverified, never checked)'],
      ['stale', expect.stringMatching(/^no \(membership_unverified, checked /)],
      ['outsider', expect.stringMatching(/^no \(not_a_member, checked /)],
    ]);
    expect(result.output).toContain('3 people waiting to be let in.');
    expect(lines.at(-1)).toBe('To let them in: npx gateway users whitelist unchecked stale outsider');
  });

  it('--json says admitted_by (whitelist, or the rule id and what it admits), refused_code and membership_checked_at', async () => {
    const url = await createDatabase({ migrated: true });
    const { aliceRule, acmeRule, checkedAt, staleAt } = await peopleUnderRules(url);
    const result = await gateway(url, ['users', 'list', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.output) as { people: Record<string, unknown>[] };
    const shape = (person: Record<string, unknown>) => ({
      login: person.login,
      admitted: person.admitted,
      admitted_by: person.admitted_by,
      refused_code: person.refused_code,
      membership_checked_at: person.membership_checked_at,
    });
    expect(body.people.map(shape)).toEqual([
      {
        login: 'stale',
        admitted: false,
        admitted_by: null,
        refused_code: 'membership_unverified',
        membership_checked_at: staleAt.toISOString(),
      },
      {
        login: 'outsider',
        admitted: false,
        admitted_by: null,
        refused_code: 'not_a_member',
        membership_checked_at: checkedAt.toISOString(),
      },
      {
        login: 'member',
        admitted: true,
        admitted_by: { kind: 'rule', rule_id: acmeRule, admits: 'members of acme' },
        refused_code: null,
        membership_checked_at: checkedAt.toISOString(),
      },
      {
        login: 'alice',
        admitted: true,
        admitted_by: { kind: 'rule', rule_id: aliceRule, admits: 'alice (GitHub id 7)' },
        refused_code: null,
        membership_checked_at: null,
      },
      {
        login: 'flagged',
        admitted: true,
        admitted_by: { kind: 'whitelist' },
        refused_code: null,
        membership_checked_at: null,
      },
    ]);
  });
});

describe('gateway users list reads the membership bounds as the Worker does', () => {
  it('counts a check older than MEMBERSHIP_HARD_SECONDS as unverified, and refuses a bound that is not whole seconds (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    const acme = await addRule(url, orgRule('acme', '4242'));
    const member = await addPerson(url, { login: 'member', githubId: '8', lastSignIn: '2026-11-30T10:03:00Z' });
    // Ten minutes ago: within the default hard bound (an hour), past a bound of five minutes.
    await addCheck(url, member, acme, new Date(Date.now() - 10 * 60_000));
    const listed = (env: Record<string, string>) =>
      runOperatorCommand('gateway', ['users', 'list', '--json'], { DATABASE_URL: url, ...env });
    const admitted = async (env: Record<string, string>) => {
      const result = await listed(env);
      expect(result.code).toBe(0);
      return (JSON.parse(result.output) as { people: { refused_code: string | null }[] }).people[0]?.refused_code;
    };
    expect(await admitted({})).toBeNull();
    expect(await admitted({ MEMBERSHIP_FRESH_SECONDS: '60', MEMBERSHIP_HARD_SECONDS: '300' })).toBe(
      'membership_unverified',
    );
    const refused = await listed({ MEMBERSHIP_HARD_SECONDS: 'an hour' });
    expect(refused.code).toBe(2);
    expect(refused.output.trim()).toBe(
      'MEMBERSHIP_HARD_SECONDS must be whole seconds from 60 to 604800, as the Worker\'s; got "an hour".',
    );
  });
});

describe('gateway users whitelist with several people', () => {
  it('lets in logins and ids in one command, one line each, and exits 1 after doing the others when some were refused', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    await addPerson(url, { login: 'bob', githubId: '12' });
    await addPerson(url, { login: 'carol', githubId: '13', whitelisted: true });
    await addPerson(url, { login: 'octo', githubId: '14' });
    await addPerson(url, { login: 'Octo', githubId: '15' });
    const result = await gateway(url, [
      'users',
      'whitelist',
      'alice',
      'carol',
      'nobody-yet',
      'octo',
      '--github-id',
      '12',
      '--github-id',
      '999',
    ]);
    expect(result.code).toBe(1);
    const lines = result.output.trimEnd().split('\n');
    expect(lines).toContain('alice (GitHub id 11) is now allowed in.');
    expect(lines).toContain('carol (GitHub id 13) is already allowed in; nothing changed.');
    expect(lines).toContain(
      'No one called nobody-yet has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.',
    );
    expect(lines.some((line) => line.includes('The login octo belongs to 2 people here (GitHub ids 14, 15)'))).toBe(
      true,
    );
    expect(lines).toContain('bob (GitHub id 12) is now allowed in.');
    expect(lines).toContain(
      'No one with GitHub id 999 has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.',
    );
    expect(lines).toContain('3 of 6 refused (above); 3 others were done.');
    expect(lines).toHaveLength(7);
    expect(await whitelisted(url, '11')).toBe(true);
    expect(await whitelisted(url, '12')).toBe(true);
    expect([await whitelisted(url, '14'), await whitelisted(url, '15')]).toEqual([false, false]);
  });

  it('exits 0 when every person was let in or already was', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    await addPerson(url, { login: 'bob', githubId: '12', whitelisted: true });
    const result = await gateway(url, ['users', 'whitelist', 'alice', 'bob']);
    expect(result.code).toBe(0);
    expect(result.output.trim().split('\n')).toEqual([
      'alice (GitHub id 11) is now allowed in.',
      'bob (GitHub id 12) is already allowed in; nothing changed.',
    ]);
  });

  it('refuses the whole command, changing no one, when one name is not a login (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    const result = await gateway(url, ['users', 'whitelist', 'alice', 'not a login']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('"not a login" is not a GitHub login');
    expect(await whitelisted(url, '11')).toBe(false);
  });

  it('takes several people off the whitelist in one command', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11', whitelisted: true });
    await addPerson(url, { login: 'bob', githubId: '12', whitelisted: true });
    const result = await gateway(url, ['users', 'unwhitelist', 'alice', '--github-id', '12']);
    expect(result.code).toBe(0);
    expect([await whitelisted(url, '11'), await whitelisted(url, '12')]).toEqual([false, false]);
  });
});
