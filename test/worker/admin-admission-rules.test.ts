import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import type { RuleJson } from '../../src/admission/rule-json.ts';
import { callAdmin } from '../support/worker/call-worker.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/** A rule as the JSON the gateway prints. */
type RuleShape = RuleJson;
interface ErrorBody {
  error: { code: string; message: string };
}

/** The stand-in GitHub is shared by every test file: each test names its own orgs and people. */
const control = () => standInControl(env.GITHUB_API_URL);

let database: TestDatabase;
let admin: RegisteredService;
beforeAll(async () => {
  database = await createTestDatabase();
  admin = await registerService(database, { scopes: ['admin'] });
});

const call = (method: string, path: string, body?: unknown, key = admin.key) =>
  callAdmin(database.env, key, method, path, body);

/** An organization the stand-in knows (it has one member), and its GitHub id. */
async function newOrg(): Promise<{ org: string; id: string }> {
  const org = uniqueLogin('rules-org');
  await control().setMembership({ org, team: 'platform', login: uniqueLogin('member') });
  const body = (await (await fetch(`${env.GITHUB_API_URL}/orgs/${org}`)).json()) as { id: number };
  return { org, id: String(body.id) };
}

const rules = async () => {
  const response = await call('GET', '/v1/admin/admission-rules');
  expect(response.status).toBe(200);
  return ((await response.json()) as { rules: RuleShape[] }).rules;
};

describe('POST /v1/admin/admission-rules', () => {
  it('makes an org rule: 201 with the rule (made by the calling service), listed by GET', async () => {
    const { org, id } = await newOrg();
    const response = await call('POST', '/v1/admin/admission-rules', { org });
    expect(response.status).toBe(201);
    const { rule, made } = (await response.json()) as { rule: RuleShape; made: boolean };
    expect(made).toBe(true);
    expect(rule).toMatchObject({
      kind: 'org',
      admits: `members of ${org}`,
      org,
      org_id: id,
      team: null,
      github_id: null,
      created_by: `service:${admin.id}`,
      removed_at: null,
    });
    expect(await rules()).toContainEqual(rule);
  });

  it('makes a team rule from "org/slug" and a login rule resolved to the GitHub id', async () => {
    const { org, id } = await newOrg();
    const team = await call('POST', '/v1/admin/admission-rules', { team: `${org}/Platform` });
    expect(team.status).toBe(201);
    expect(((await team.json()) as { rule: RuleShape }).rule).toMatchObject({
      kind: 'team',
      org,
      org_id: id,
      team: 'platform',
      admits: `members of ${org}/platform`,
    });

    const login = uniqueLogin('rules-person');
    const person = await control().addUser(login);
    const byLogin = await call('POST', '/v1/admin/admission-rules', { login });
    expect(byLogin.status).toBe(201);
    expect(((await byLogin.json()) as { rule: RuleShape }).rule).toMatchObject({
      kind: 'login',
      github_id: String(person.id),
      login,
      org: null,
    });
  });

  it('answers 200 with made: false and the same rule when one is already live', async () => {
    const { org } = await newOrg();
    const first = (await (await call('POST', '/v1/admin/admission-rules', { org })).json()) as { rule: RuleShape };
    const again = await call('POST', '/v1/admin/admission-rules', { org: org.toUpperCase() });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ rule: first.rule, made: false });
  });

  it('refuses two targets or none (invalid_body), a team not named org/slug (invalid_rule), 400', async () => {
    const { org } = await newOrg();
    for (const body of [{ org, login: 'someone' }, {}, { org: 'not a login!' }]) {
      const response = await call('POST', '/v1/admin/admission-rules', body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error.code).toBe('invalid_body');
    }
    for (const team of ['platform', `${org}/plat/form`, `${org}/bad slug`]) {
      const response = await call('POST', '/v1/admin/admission-rules', { team });
      expect(response.status).toBe(400);
      const body = (await response.json()) as ErrorBody;
      expect(body.error.code).toBe('invalid_rule');
      expect(body.error.message).toContain('ORG/TEAM-SLUG');
    }
  });

  it('answers 404 unknown_github_account for an org GitHub does not know, 400 not_a_person for a login that is an org', async () => {
    const unknown = await call('POST', '/v1/admin/admission-rules', { org: uniqueLogin('no-such-org') });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ErrorBody).error.code).toBe('unknown_github_account');
    const { org } = await newOrg();
    const notPerson = await call('POST', '/v1/admin/admission-rules', { login: org });
    expect(notPerson.status).toBe(400);
    expect(((await notPerson.json()) as ErrorBody).error).toMatchObject({ code: 'not_a_person' });
  });
});

describe('DELETE /v1/admin/admission-rules/{id}', () => {
  it('removes the rule (kept for the record: removed_at, removed_by); it is gone from GET', async () => {
    const { org } = await newOrg();
    const made = (await (await call('POST', '/v1/admin/admission-rules', { org })).json()) as { rule: RuleShape };
    const response = await call('DELETE', `/v1/admin/admission-rules/${made.rule.id}`);
    expect(response.status).toBe(200);
    const { rule } = (await response.json()) as { rule: RuleShape };
    expect(rule).toMatchObject({ id: made.rule.id, removed_by: `service:${admin.id}` });
    expect(Date.parse(rule.removed_at ?? '')).not.toBeNaN();
    expect((await rules()).map((listed) => listed.id)).not.toContain(made.rule.id);
  });

  it('answers 404 no_such_rule for an id no live rule has (a removed one, or not an id at all)', async () => {
    const { org } = await newOrg();
    const made = (await (await call('POST', '/v1/admin/admission-rules', { org })).json()) as { rule: RuleShape };
    expect((await call('DELETE', `/v1/admin/admission-rules/${made.rule.id}`)).status).toBe(200);
    for (const id of [made.rule.id, 'not-a-rule-id']) {
      const response = await call('DELETE', `/v1/admin/admission-rules/${id}`);
      expect(response.status).toBe(404);
      const body = (await response.json()) as ErrorBody;
      expect(body.error.code).toBe('no_such_rule');
      expect(body.error.message).toContain('`gateway users rules`');
    }
  });
});

describe('the admission-rule routes', () => {
  it('refuse a service without the admin scope: 403 insufficient_scope on each', async () => {
    const plain = await registerService(database, { scopes: ['users:verify'] });
    const { org } = await newOrg();
    for (const [method, path, body] of [
      ['GET', '/v1/admin/admission-rules', undefined],
      ['POST', '/v1/admin/admission-rules', { org }],
      ['DELETE', '/v1/admin/admission-rules/00000000-0000-4000-8000-000000000000', undefined],
    ] as const) {
      const response = await call(method, path, body, plain.key);
      expect(response.status).toBe(403);
      expect(((await response.json()) as ErrorBody).error.code).toBe('insufficient_scope');
    }
    expect((await rules()).map((rule) => rule.org)).not.toContain(org);
  });

  it('leave change records users:allow and users:deny by the calling service, shown by the audit query (kind change)', async () => {
    const { org } = await newOrg();
    const made = (await (await call('POST', '/v1/admin/admission-rules', { org })).json()) as { rule: RuleShape };
    // A repeat makes nothing and records nothing.
    expect((await call('POST', '/v1/admin/admission-rules', { org })).status).toBe(200);
    expect((await call('DELETE', `/v1/admin/admission-rules/${made.rule.id}`)).status).toBe(200);

    const response = await call('GET', '/v1/admin/audit?kind=change&limit=500');
    expect(response.status).toBe(200);
    const { entries } = (await response.json()) as {
      entries: { action: string; actor: unknown; details: Record<string, unknown> | null; ip_address: string | null }[];
    };
    const ours = entries.filter((entry) => entry.details?.rule_id === made.rule.id).reverse();
    expect(ours.map((entry) => entry.action)).toEqual(['users:allow', 'users:deny']);
    for (const entry of ours) {
      expect(entry.actor).toEqual({ kind: 'service', service: admin.identifier });
      expect(entry.details).toMatchObject({ rule_kind: 'org', org, admits: `members of ${org}` });
    }
  });
});
