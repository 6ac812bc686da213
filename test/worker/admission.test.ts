import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, membershipChecks, users } from '../../drizzle/schema.ts';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { allowByRule, removeRule } from '../../src/admission/manage-rules.ts';
import { type RuleTarget, ruleTargetKey } from '../../src/admission/rule.ts';
import type { Bindings } from '../../src/config.ts';
import { insertRule } from '../../src/db/admission-rules.ts';
import { saveMembershipCheck } from '../../src/db/membership-checks.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { OTHER_STAND_IN_APPS } from '../support/stand-in-client.ts';
import { callService, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * Admission by org, team and login rule (docs/api.md, "Admission by organization and team"):
 * checked at sign-in with the person's own token through the stand-in GitHub's membership API,
 * and re-checked after a verify once the result is older than MEMBERSHIP_FRESH_SECONDS (10 min).
 * callWorker waits for the request's background work, so a re-check has finished when it returns.
 */
let database: TestDatabase;
let service: RegisteredService;
const control = () => standInControl(env.GITHUB_API_URL);
const github = { apiUrl: env.GITHUB_API_URL, oauthUrl: env.GITHUB_OAUTH_URL };
const SERVICE_QUERY = () => `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;

beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
});

function allow(target: RuleTarget) {
  return database.use((db) => allowByRule({ db, github }, target, TEST_OPERATOR));
}

/** Signs `login` in through the service: the session token when admitted, else the callback's answer. */
async function signInThroughService(
  login: string,
  bindings: Bindings = database.env,
): Promise<{ token: string; userId: string } | { refused: Response }> {
  const back = await signIn(bindings, login, SERVICE_QUERY());
  const code = back.status === 302 ? new URL(back.headers.get('location') ?? '').searchParams.get('code') : null;
  if (!code) return { refused: back };
  const exchange = await callService(database, '/v1/sessions/exchange', service.key, {
    code,
    redirect_uri: SERVICE_REDIRECT,
  });
  expect(exchange.status).toBe(200);
  const body = (await exchange.json()) as { session: { token: string }; user: { id: string } };
  return { token: body.session.token, userId: body.user.id };
}

async function admitted(login: string): Promise<{ token: string; userId: string }> {
  const outcome = await signInThroughService(login);
  if ('refused' in outcome) throw new Error(`${login} was refused with ${outcome.refused.status}`);
  return outcome;
}

async function verify(session: string): Promise<{ valid: boolean; code: string }> {
  const answer = await callService(database, '/v1/verify', service.key, { session });
  expect(answer.status).toBe(200);
  return (await answer.json()) as { valid: boolean; code: string };
}

/** The latest sign-in record of a person, by GitHub login. */
async function lastSignInRecord(login: string) {
  return database.use(async (db) => {
    const rows = await db.select().from(changeRecords);
    return rows
      .filter((row) => row.kind === 'sign-in' && (row.details as { login?: string }).login === login)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  });
}

/** A member of a new org, an org rule for it, and their sign-in through the service: admitted. */
async function memberAdmittedByOrg(prefix: string) {
  const [org, login] = [uniqueLogin('org'), uniqueLogin(prefix)];
  await control().setMembership({ org, login });
  await allow({ kind: 'org', org });
  return { org, login, person: await admitted(login) };
}

/** Makes the person's last membership check (and its last attempt) `minutes` old. */
function ageCheck(userId: string, minutes: { checked: number; attempted?: number }) {
  const at = (m: number) => new Date(Date.now() - m * 60_000);
  return database.use((db) =>
    db
      .update(membershipChecks)
      .set({ checkedAt: at(minutes.checked), attemptedAt: at(minutes.attempted ?? minutes.checked) })
      .where(eq(membershipChecks.userId, userId)),
  );
}

/** Makes the person's GitHub token expired a minute ago (and, with `refreshToken: null`, unrefreshable). */
function expireToken(userId: string, also: { refreshToken?: null } = {}) {
  return database.use((db) =>
    db
      .update(users)
      .set({ expiresAt: new Date(Date.now() - 60_000), ...also })
      .where(eq(users.id, userId)),
  );
}

const checkOf = (userId: string) =>
  database.use(async (db) => (await db.select().from(membershipChecks).where(eq(membershipChecks.userId, userId)))[0]);

describe('admission by organization', () => {
  it('admits an active member of an allowed org at sign-in and records which rule admitted them', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    const { rule } = await allow({ kind: 'org', org });
    const person = await admitted(login);
    expect(await verify(person.token)).toEqual(expect.objectContaining({ valid: true, code: 'ok' }));
    const record = await lastSignInRecord(login);
    expect(record).toMatchObject({ action: 'sign-in:admitted', code: 'ok' });
    expect(record?.details).toMatchObject({ admitted_by: 'rule', rule_id: rule.id, admits: `members of ${org}` });
  });

  it('refuses a person whose invitation to the org is still pending, as not_a_member', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('invited')];
    await control().setMembership({ org, login, state: 'pending' });
    await allow({ kind: 'org', org });
    const outcome = await signInThroughService(login);
    expect('refused' in outcome && outcome.refused.status).toBe(403);
    expect(await lastSignInRecord(login)).toMatchObject({ action: 'sign-in:pending', code: 'not_a_member' });
  });

  it('refuses a person in no allowed org, as not_a_member', async () => {
    const [org, outsider] = [uniqueLogin('org'), uniqueLogin('outsider')];
    await control().setMembership({ org, login: uniqueLogin('someone') });
    await allow({ kind: 'org', org });
    expect('refused' in (await signInThroughService(outsider))).toBe(true);
    expect(await lastSignInRecord(outsider)).toMatchObject({ code: 'not_a_member' });
  });

  it('refuses a billing manager of the org: affiliated, but no member', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('billing')];
    await control().setMembership({ org, login, role: 'billing_manager' });
    await allow({ kind: 'org', org });
    expect('refused' in (await signInThroughService(login))).toBe(true);
    expect(await lastSignInRecord(login)).toMatchObject({ action: 'sign-in:pending', code: 'not_a_member' });
  });

  it('admits nobody through a rule whose org id is not the org now answering to that login (renamed, login taken)', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    await control().setMembership({ org, team: 'core', login });
    // The rules as they were made for an org of that login that GitHub numbered 1 (since renamed).
    await database.use(async (db) => {
      for (const fields of [
        { kind: 'org', orgLogin: org, orgId: '1', teamSlug: null },
        { kind: 'team', orgLogin: org, orgId: '1', teamSlug: 'core' },
      ] as const) {
        const rule = { ...fields, githubUserId: null, githubLogin: null, createdBy: 'test-setup' };
        await insertRule(db, { ...rule, target: ruleTargetKey(rule) });
      }
    });
    expect('refused' in (await signInThroughService(login))).toBe(true);
    expect(await lastSignInRecord(login)).toMatchObject({ code: 'not_a_member' });
  });

  it('stops admitting the members of an org once its rule is removed (verify: not_a_member)', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    const { rule } = await allow({ kind: 'org', org });
    const person = await admitted(login);
    await database.use((db) => removeRule(db, { id: rule.id }, TEST_OPERATOR));
    expect(await verify(person.token)).toMatchObject({ valid: false, code: 'not_a_member' });
  });
});

describe('admission by team', () => {
  it('admits an active member of the team and refuses a member of the org who is not in it', async () => {
    const [org, team] = [uniqueLogin('org'), 'platform'];
    const [inTeam, notInTeam] = [uniqueLogin('team-member'), uniqueLogin('org-member')];
    await control().setMembership({ org, login: inTeam });
    await control().setMembership({ org, team, login: inTeam });
    await control().setMembership({ org, login: notInTeam });
    await allow({ kind: 'team', org, team });
    const person = await admitted(inTeam);
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    expect('refused' in (await signInThroughService(notInTeam))).toBe(true);
    expect(await lastSignInRecord(notInTeam)).toMatchObject({ code: 'not_a_member' });
  });
});

describe('admission by login', () => {
  it('admits a person named before their first sign-in, and still after they rename; the login taken by someone else admits nobody', async () => {
    const [login, renamed] = [uniqueLogin('named'), uniqueLogin('renamed')];
    await control().addUser(login);
    const { rule } = await allow({ kind: 'login', login });
    const first = await admitted(login);
    expect(await verify(first.token)).toMatchObject({ valid: true, code: 'ok' });
    expect((await lastSignInRecord(login))?.details).toMatchObject({ rule_id: rule.id });

    await control().renameUser(login, renamed);
    await control().addUser(login);
    const again = await admitted(renamed);
    expect(again.userId).toBe(first.userId);
    const impostor = await signInThroughService(login);
    expect('refused' in impostor).toBe(true);
    expect(await lastSignInRecord(login)).toMatchObject({ action: 'sign-in:pending' });
  });
});

describe('removing a login rule', () => {
  it('refuses to guess when two live rules were made for the same login (renamed, then taken): --id says which', async () => {
    const login = uniqueLogin('reused');
    const ids = await database.use(async (db) => {
      const made = [];
      for (const githubUserId of ['900000001', '900000002']) {
        const rule = {
          kind: 'login',
          orgLogin: null,
          orgId: null,
          teamSlug: null,
          githubUserId,
          githubLogin: login,
        } as const;
        made.push((await insertRule(db, { ...rule, target: ruleTargetKey(rule), createdBy: 'test-setup' })).rule.id);
      }
      return made;
    });
    const refusal = await database.use((db) => removeRule(db, { kind: 'login', login }, TEST_OPERATOR)).catch((e) => e);
    expect(refusal).toMatchObject({ code: 'ambiguous_rule' });
    expect(String(refusal.message)).toContain('900000001, 900000002');
    const removed = await database.use((db) => removeRule(db, { id: ids[1] ?? '' }, TEST_OPERATOR));
    expect(removed).toMatchObject({ githubUserId: '900000002' });
    await database.use((db) => removeRule(db, { kind: 'login', login }, TEST_OPERATOR));
  });
});

describe('the membership re-check after a verify', () => {
  it('refuses a person removed from the org while signed in, once their check is older than the fresh bound', async () => {
    const { org, login, person } = await memberAdmittedByOrg('leaver');
    await control().removeMembership({ org, login });
    // Within the fresh bound the last result stands, and nothing asks GitHub.
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    const before = await checkOf(person.userId);

    await ageCheck(person.userId, { checked: 11 });
    // This verify answers from the last result; its re-check runs after the response.
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    const after = await checkOf(person.userId);
    expect(after?.admittedByRuleId).toBeNull();
    expect(after?.checkedAt?.getTime()).toBeGreaterThan(before?.checkedAt?.getTime() ?? 0);
    expect(await verify(person.token)).toMatchObject({ valid: false, code: 'not_a_member' });

    const ended = await database.use(async (db) =>
      (await db.select().from(changeRecords)).filter(
        (row) => row.action === 'admission:ended' && row.subjectUserId === person.userId,
      ),
    );
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ actorKind: 'gateway', code: 'not_a_member', kind: 'sign-in' });
  });

  it('keeps the last result while GitHub fails, refuses past the hard bound (membership_unverified), and admits again once a check succeeds', async () => {
    const { org, person } = await memberAdmittedByOrg('member');
    await control().startOutage({ status: 503, org });
    try {
      await ageCheck(person.userId, { checked: 11 });
      expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
      const failed = await checkOf(person.userId);
      expect(failed?.failure).toBe('github_unreachable');
      expect(Date.now() - (failed?.checkedAt?.getTime() ?? 0)).toBeGreaterThan(10 * 60_000);

      await ageCheck(person.userId, { checked: 61 });
      expect(await verify(person.token)).toMatchObject({ valid: false, code: 'membership_unverified' });
    } finally {
      await control().endOutage({ org });
    }
    // The verify past the hard bound answers from what it read, and its re-check succeeds after it.
    await ageCheck(person.userId, { checked: 61 });
    expect(await verify(person.token)).toMatchObject({ valid: false, code: 'membership_unverified' });
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    expect((await checkOf(person.userId))?.failure).toBeNull();
  });

  it('refuses at once (membership_unverified) a person whose own token no longer works, not after the hard bound', async () => {
    const { person } = await memberAdmittedByOrg('revoker');
    // The token expired and its refresh token is gone (revoked): nothing can confirm them now.
    await expireToken(person.userId, { refreshToken: null });
    await ageCheck(person.userId, { checked: 11 });
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    expect(await checkOf(person.userId)).toMatchObject({ failure: 'refresh_failed', checkedAt: null });
    expect(await verify(person.token)).toMatchObject({ valid: false, code: 'membership_unverified' });
  });

  it('never lets an answer asked earlier overwrite one asked later (a slow re-check after a sign-in)', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    const { rule } = await allow({ kind: 'org', org });
    const person = await admitted(login);
    const later = new Date(Date.now() + 1000);
    await database.use(async (db) => {
      await saveMembershipCheck(db, person.userId, { answered: true, admittedByRuleId: null, askedAt: later });
      await saveMembershipCheck(db, person.userId, {
        answered: true,
        admittedByRuleId: rule.id,
        askedAt: new Date(later.getTime() - 5000),
      });
    });
    expect(await checkOf(person.userId)).toMatchObject({ admittedByRuleId: null, checkedAt: later });
  });

  it('refreshes an expired GitHub token before re-checking with it', async () => {
    const { person } = await memberAdmittedByOrg('member');
    await expireToken(person.userId);
    await ageCheck(person.userId, { checked: 11 });
    expect(await verify(person.token)).toMatchObject({ valid: true, code: 'ok' });
    const check = await checkOf(person.userId);
    expect(check?.failure).toBeNull();
    expect(Date.now() - (check?.checkedAt?.getTime() ?? 0)).toBeLessThan(60_000);
    const [row] = await database.use((db) => db.select().from(users).where(eq(users.id, person.userId)));
    expect(row?.expiresAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it('does not re-check again within 30 seconds of an attempt, whatever the number of verifies', async () => {
    const { org, person } = await memberAdmittedByOrg('member');
    await control().startOutage({ status: 503, org });
    try {
      await ageCheck(person.userId, { checked: 11 });
      await verify(person.token);
      const first = await checkOf(person.userId);
      await Promise.all([verify(person.token), verify(person.token), verify(person.token)]);
      expect((await checkOf(person.userId))?.attemptedAt.getTime()).toBe(first?.attemptedAt.getTime());
    } finally {
      await control().endOutage({ org });
    }
  });
});

/** The error a refused sign-in through the service sent the browser back to the service with. */
function serviceError(outcome: Awaited<ReturnType<typeof signInThroughService>>): Record<string, string> {
  if (!('refused' in outcome)) throw new Error('the sign-in was admitted');
  expect(outcome.refused.status).toBe(302);
  return Object.fromEntries(new URL(outcome.refused.headers.get('location') ?? '').searchParams);
}

describe('a sign-in GitHub cannot answer about', () => {
  it('is refused with membership_unanswered while the membership API fails, and the record names the person', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    await allow({ kind: 'org', org });
    await control().startOutage({ status: 502, org });
    try {
      const outcome = await signInThroughService(login);
      // Back at the service (RFC 6749 section 4.1.2.1), with the gateway's code and the reason.
      expect(serviceError(outcome)).toMatchObject({
        error: 'temporarily_unavailable',
        gateway_error: 'membership_unanswered',
        error_description: expect.stringContaining('Try again in a minute'),
      });
    } finally {
      await control().endOutage({ org });
    }
    const record = await lastSignInRecord(login);
    const user = await database.use(
      async (db) => (await db.select().from(users).where(eq(users.githubLogin, login)))[0],
    );
    expect(record).toBeUndefined();
    const refusals = await database.use(async (db) =>
      (await db.select().from(changeRecords)).filter((row) => row.subjectUserId === user?.id),
    );
    expect(refusals.map((row) => [row.action, row.code])).toEqual([['sign-in:refused', 'membership_unanswered']]);
  });

  it('names the GitHub App permission when the app may not read organization members', async () => {
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    await control().setMembership({ org, login });
    await allow({ kind: 'org', org });
    const app = OTHER_STAND_IN_APPS.noMembersPermission;
    const outcome = await signInThroughService(login, {
      ...database.env,
      GITHUB_CLIENT_ID: app.clientId,
      GITHUB_CLIENT_SECRET: app.clientSecret,
    });
    expect(serviceError(outcome)).toMatchObject({
      gateway_error: 'membership_unanswered',
      error_description: expect.stringContaining('organization permissions'),
    });
  });
});
