import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions, users } from '../../drizzle/schema.ts';
import { ruleTargetKey } from '../../src/admission/rule.ts';
import { insertRule, markRuleRemoved, type NewAdmissionRule } from '../../src/db/admission-rules.ts';
import { saveMembershipCheck } from '../../src/db/membership-checks.ts';
import { createSession } from '../../src/db/sessions.ts';
import { callAdmin } from '../support/worker/call-worker.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

interface ListedPerson {
  id: string;
  github_id: string;
  login: string | null;
  admitted: boolean;
  admitted_by: { kind: 'whitelist' } | { kind: 'rule'; rule_id: string; admits: string } | null;
  refused_code: string | null;
  membership_checked_at: string | null;
  last_sign_in_at: string | null;
  first_seen_at: string;
  sessions: { service: string | null; live: number; latest_expires_at: string }[];
}
interface PeoplePage {
  people: ListedPerson[];
  next_cursor: string | null;
}

let database: TestDatabase;
let admin: RegisteredService;
beforeAll(async () => {
  database = await createTestDatabase();
  admin = await registerService(database, { scopes: ['admin'] });
});

const listPeople = async (query = '') => {
  const response = await callAdmin(database.env, admin.key, 'GET', `/v1/admin/users${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as PeoplePage;
};

const userIdOf = (login: string) =>
  database.use(async (db) => {
    const [row] = await db.select({ id: users.id }).from(users).where(eq(users.githubLogin, login));
    if (!row) throw new Error(`${login} has no row`);
    return row.id;
  });

describe('GET /v1/admin/users', () => {
  it('lists each person with why they are admitted, last sign-in and live sessions per service (expired and revoked ones not counted)', async () => {
    const [appA, appB] = [await registerService(database), await registerService(database)];
    const admitted = uniqueLogin('admitted');
    const pending = uniqueLogin('pending');
    const before = Date.now();
    await signIn(database.env, admitted);
    await whitelist(database, admitted);
    await signIn(database.env, pending);
    const admittedId = await userIdOf(admitted);
    await database.use(async (db) => {
      const now = new Date();
      await createSession(db, { userId: admittedId, serviceId: appA?.id ?? null, ttlSeconds: 600 });
      await createSession(db, { userId: admittedId, serviceId: appA?.id ?? null, ttlSeconds: 3600 });
      await createSession(db, { userId: admittedId, serviceId: appB?.id ?? null, ttlSeconds: 60 });
      // Expired an hour ago: not live.
      await createSession(
        db,
        { userId: admittedId, serviceId: appB?.id ?? null, ttlSeconds: 60 },
        new Date(now.getTime() - 3_600_000),
      );
      // Revoked: not live.
      const revoked = await createSession(db, { userId: admittedId, serviceId: appB?.id ?? null, ttlSeconds: 600 });
      await db.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, revoked.id));
    });

    const page = await listPeople('?limit=500');
    const byLogin = new Map(page.people.map((person) => [person.login, person]));
    expect(byLogin.has('never-signed-in')).toBe(false);

    const shown = byLogin.get(admitted);
    expect(shown).toMatchObject({
      id: admittedId,
      admitted: true,
      admitted_by: { kind: 'whitelist' },
      refused_code: null,
      membership_checked_at: null,
    });
    expect(shown?.github_id).toMatch(/^\d+$/);
    expect(Date.parse(shown?.last_sign_in_at ?? '')).toBeGreaterThanOrEqual(before - 1000);
    const live = Object.fromEntries((shown?.sessions ?? []).map((at) => [at.service, at]));
    // Their one sign-in was refused (whitelisted afterwards): no session of the gateway's own.
    expect(Object.keys(live).sort()).toEqual([appA?.identifier, appB?.identifier].sort());
    expect(live[appA?.identifier ?? '']?.live).toBe(2);
    expect(live[appB?.identifier ?? '']?.live).toBe(1);
    const latestAtA = Date.parse(live[appA?.identifier ?? '']?.latest_expires_at ?? '');
    expect(latestAtA).toBeGreaterThan(Date.now() + 3_000_000);

    // No org or team rule here: nothing admits them but the whitelist.
    expect(byLogin.get(pending)).toMatchObject({
      admitted: false,
      admitted_by: null,
      refused_code: 'not_whitelisted',
      membership_checked_at: null,
      sessions: [],
    });
    expect(JSON.stringify(page)).not.toMatch(/ghu_|ghr_|access_token|refresh_token/);
  });

  it('lists with pending=true only people who signed in and were not admitted, newest sign-in first', async () => {
    const [first, second, allowed] = [uniqueLogin('first'), uniqueLogin('second'), uniqueLogin('allowed')];
    await signIn(database.env, first);
    await signIn(database.env, second);
    await signIn(database.env, allowed);
    await whitelist(database, allowed);
    // `first` tries again: now the newest attempt.
    await signIn(database.env, first);

    const page = await listPeople('?pending=true&limit=500');
    const logins = page.people.map((person) => person.login);
    expect(logins).not.toContain(allowed);
    expect(page.people.every((person) => !person.admitted)).toBe(true);
    expect(logins.indexOf(first)).toBeLessThan(logins.indexOf(second));
    expect(logins.indexOf(first)).toBe(0);
    const times = page.people.map((person) => Date.parse(person.last_sign_in_at ?? '0'));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('pages with next_cursor through every person once, in the same order as one page', async () => {
    for (const prefix of ['page-a', 'page-b', 'page-c']) await signIn(database.env, uniqueLogin(prefix));
    // A person from the old system: no sign-in time known, listed last.
    await database.use((db) => db.insert(users).values({ githubUserId: '987654321', githubLogin: uniqueLogin('old') }));
    const whole = (await listPeople('?limit=500')).people.map((person) => person.id);
    expect(whole.length).toBeGreaterThanOrEqual(4);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: PeoplePage = await listPeople(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.people.length).toBeLessThanOrEqual(2);
      walked.push(...page.people.map((person) => person.id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(walked).toEqual(whole);
    expect((await listPeople('?limit=500')).people.at(-1)?.last_sign_in_at).toBeNull();
  });

  it('refuses a cursor it did not give out and a limit out of bounds with 400 invalid_query', async () => {
    for (const query of ['?cursor=bm90LWEtY3Vyc29y', '?limit=0', '?limit=501', '?pending=yes']) {
      const response = await callAdmin(database.env, admin.key, 'GET', `/v1/admin/users${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: { code: string } };
      expect(body.error.code, query).toBe('invalid_query');
    }
  });

  it('answers 403 to a service without the admin scope', async () => {
    const plain = await registerService(database, { scopes: ['users:verify'] });
    const response = await callAdmin(database.env, plain.key, 'GET', '/v1/admin/users');
    expect(response.status).toBe(403);
  });
});

/** A rule as the rule commands make it, resolved to GitHub ids (inserted directly here). */
function rule(fields: Omit<NewAdmissionRule, 'target' | 'createdBy'>): NewAdmissionRule {
  return { ...fields, target: ruleTargetKey(fields), createdBy: 'test-operator' };
}

// Rules admit everyone in the file's database: these tests remove theirs afterwards.
describe('GET /v1/admin/users with admission rules', () => {
  const ruleIds: string[] = [];
  afterAll(async () => {
    await database.use(async (db) => {
      for (const id of ruleIds) await markRuleRemoved(db, id, 'test-operator');
    });
  });

  it('says for each person whether and why they are admitted: whitelist, a login rule, an org rule through the last check, or the refusal code', async () => {
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const logins = {
      flagged: uniqueLogin('flagged'),
      named: uniqueLogin('named'),
      member: uniqueLogin('member'),
      outsider: uniqueLogin('outsider'),
      stale: uniqueLogin('stale'),
      unchecked: uniqueLogin('unchecked'),
    };
    const ids = new Map<string, { id: string; githubId: string }>();
    let githubId = 7_000_000 + Math.floor(Math.random() * 1_000_000);
    let minute = 10;
    for (const [key, login] of Object.entries(logins)) {
      githubId += 1;
      minute -= 1;
      const [row] = await database.use((db) =>
        db
          .insert(users)
          .values({
            githubUserId: String(githubId),
            githubLogin: login,
            isWhitelisted: key === 'flagged',
            lastSignInAt: minutesAgo(minute),
          })
          .returning({ id: users.id }),
      );
      ids.set(key, { id: row?.id ?? '', githubId: String(githubId) });
    }
    const named = ids.get('named');
    const checkedAt = minutesAgo(5);
    const staleAt = minutesAgo(120);
    const { loginRule, orgRule } = await database.use(async (db) => {
      const made = await insertRule(
        db,
        rule({
          kind: 'login',
          githubUserId: named?.githubId ?? '',
          githubLogin: logins.named,
          orgLogin: null,
          orgId: null,
          teamSlug: null,
        }),
      );
      const org = await insertRule(
        db,
        rule({ kind: 'org', orgLogin: 'acme', orgId: '424242', teamSlug: null, githubUserId: null, githubLogin: null }),
      );
      const admittedByOrg = (askedAt: Date) => ({ answered: true as const, admittedByRuleId: org.rule.id, askedAt });
      await saveMembershipCheck(db, ids.get('member')?.id ?? '', admittedByOrg(checkedAt), checkedAt);
      await saveMembershipCheck(
        db,
        ids.get('outsider')?.id ?? '',
        { answered: true, admittedByRuleId: null, askedAt: checkedAt },
        checkedAt,
      );
      // A member two hours ago, unconfirmed since: past the hard bound (an hour).
      await saveMembershipCheck(db, ids.get('stale')?.id ?? '', admittedByOrg(staleAt), staleAt);
      return { loginRule: made.rule, orgRule: org.rule };
    });
    ruleIds.push(loginRule.id, orgRule.id);

    const page = await listPeople('?limit=500');
    const byLogin = new Map(page.people.map((person) => [person.login, person]));
    expect(byLogin.get(logins.flagged)).toMatchObject({
      admitted: true,
      admitted_by: { kind: 'whitelist' },
      refused_code: null,
      membership_checked_at: null,
    });
    expect(byLogin.get(logins.named)).toMatchObject({
      admitted: true,
      admitted_by: { kind: 'rule', rule_id: loginRule.id, admits: `${logins.named} (GitHub id ${named?.githubId})` },
      refused_code: null,
    });
    expect(byLogin.get(logins.member)).toMatchObject({
      admitted: true,
      admitted_by: { kind: 'rule', rule_id: orgRule.id, admits: 'members of acme' },
      refused_code: null,
      membership_checked_at: checkedAt.toISOString(),
    });
    expect(byLogin.get(logins.outsider)).toMatchObject({
      admitted: false,
      admitted_by: null,
      refused_code: 'not_a_member',
      membership_checked_at: checkedAt.toISOString(),
    });
    expect(byLogin.get(logins.stale)).toMatchObject({
      admitted: false,
      admitted_by: null,
      refused_code: 'membership_unverified',
      membership_checked_at: staleAt.toISOString(),
    });
    expect(byLogin.get(logins.unchecked)).toMatchObject({
      admitted: false,
      admitted_by: null,
      refused_code: 'membership_unverified',
      membership_checked_at: null,
    });

    // pending=true: only the refused, newest sign-in first; the rules' admitted are not pending.
    const pending = (await listPeople('?pending=true&limit=500')).people.map((person) => person.login);
    const ours = pending.filter((login) => Object.values(logins).includes(login ?? ''));
    expect(ours).toEqual([logins.unchecked, logins.stale, logins.outsider]);
  });
});
