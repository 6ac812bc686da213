import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInGitHub, startStandInGitHub } from '../../scripts/lib/dev/stand-in-github.ts';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { standInUserToken } from '../support/stand-in-user-token.ts';

const CALLBACK = 'http://127.0.0.1/auth/github/callback';
const APP = { clientId: 'Iv1.memberships-test', clientSecret: 'memberships-test-secret' };
/** A GitHub App registered without the organization "Members" read permission. */
const NO_MEMBERS_APP = {
  clientId: 'Iv1.memberships-no-members',
  clientSecret: 'no-members-secret',
  callbackUrls: [CALLBACK],
  membersRead: false,
};

let github: StandInGitHub;
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'stand-in-memberships-'));
  const file = path.join(folder, 'memberships.json');
  writeFileSync(
    file,
    JSON.stringify({
      users: ['dormant-dora'],
      memberships: [
        { org: 'acme', login: 'alice', role: 'admin', public: true },
        { org: 'acme', login: 'carol', state: 'pending' },
        { org: 'acme', team: 'platform', login: 'alice', role: 'maintainer' },
        { org: 'acme', team: 'platform', login: 'erin', state: 'pending' },
        { org: 'acme', login: 'bob' },
      ],
    }),
  );
  github = await startStandInGitHub({
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    callbackUrls: [CALLBACK],
    otherApps: [NO_MEMBERS_APP],
    membershipsFile: file,
  });
});

afterAll(async () => {
  await github?.close();
  await rm(folder, { recursive: true, force: true });
});

/** A person signs in at the stand-in through the OAuth flow and gets a user token. */
async function signIn(login: string, app: { clientId: string; clientSecret: string } = APP): Promise<string> {
  return standInUserToken({ githubUrl: github.url, login, app, callbackUrl: CALLBACK });
}

function api(pathname: string, token?: string): Promise<Response> {
  return fetch(`${github.url}${pathname}`, {
    headers: token ? { Authorization: `Bearer ${token}`, Accept: 'application/vnd.github+json' } : {},
    redirect: 'manual',
  });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

describe('GET /user/memberships/orgs/{org} at the stand-in GitHub', () => {
  it("answers an active member's own membership with state, role, organization and user", async () => {
    const token = await signIn('alice');
    const response = await api('/user/memberships/orgs/ACME', token);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      state: 'active',
      role: 'admin',
      organization: { login: 'acme', id: expect.any(Number) },
      user: { login: 'alice', id: github.addUser('alice').id },
    });
  });

  it('answers a pending invitation with state "pending"', async () => {
    const body = await json(await api('/user/memberships/orgs/acme', await signIn('carol')));
    expect(body).toMatchObject({ state: 'pending', role: 'member', user: { login: 'carol' } });
  });

  it('answers 404 to a person who is not a member, and for an org that does not exist', async () => {
    const token = await signIn('mallory');
    expect((await api('/user/memberships/orgs/acme', token)).status).toBe(404);
    const unknownOrg = await api('/user/memberships/orgs/no-such-org', token);
    expect(unknownOrg.status).toBe(404);
    expect(await json(unknownOrg)).toMatchObject({ message: 'Not Found' });
  });

  it('answers 401 in GitHub\'s shape without a token ("Requires authentication") and with one it did not issue ("Bad credentials")', async () => {
    const none = await api('/user/memberships/orgs/acme');
    expect(none.status).toBe(401);
    expect(await json(none)).toMatchObject({
      message: 'Requires authentication',
      documentation_url: expect.any(String),
    });
    const forged = await api('/user/memberships/orgs/acme', 'ghu_not-issued-here');
    expect(forged.status).toBe(401);
    expect(await json(forged)).toMatchObject({ message: 'Bad credentials', documentation_url: expect.any(String) });
  });

  it('answers 403 "Resource not accessible by integration" to a token of an app without the Members read permission', async () => {
    const response = await api('/user/memberships/orgs/acme', await signIn('alice', NO_MEMBERS_APP));
    expect(response.status).toBe(403);
    expect(response.headers.get('x-accepted-github-permissions')).toBe('members=read');
    expect(await json(response)).toMatchObject({ message: 'Resource not accessible by integration' });
  });

  it('answers 404 with the same token once the member is removed while signed in, and 200 again when re-added', async () => {
    github.setMembership({ org: 'leaving-co', login: 'lena' });
    const token = await signIn('lena');
    expect((await api('/user/memberships/orgs/leaving-co', token)).status).toBe(200);
    expect(github.removeMembership({ org: 'leaving-co', login: 'lena' })).toBe(true);
    expect((await api('/user/memberships/orgs/leaving-co', token)).status).toBe(404);
    github.setMembership({ org: 'leaving-co', login: 'lena', state: 'pending' });
    expect(await json(await api('/user/memberships/orgs/leaving-co', token))).toMatchObject({ state: 'pending' });
  });
});

describe('GET /orgs/{org}/teams/{team_slug}/memberships/{username} at the stand-in GitHub', () => {
  it('answers a team member with { url, role, state }', async () => {
    const response = await api('/orgs/acme/teams/platform/memberships/alice', await signIn('alice'));
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toEqual({ url: expect.stringContaining('/memberships/alice'), role: 'maintainer', state: 'active' });
  });

  it('answers a pending team membership with state "pending"', async () => {
    const body = await json(await api('/orgs/acme/teams/platform/memberships/erin', await signIn('alice')));
    expect(body).toMatchObject({ role: 'member', state: 'pending' });
  });

  it('answers 404 for someone not in the team, an unknown team, and to a caller who is no active member of the org (the team is not visible)', async () => {
    const alice = await signIn('alice');
    expect((await api('/orgs/acme/teams/platform/memberships/bob', alice)).status).toBe(404);
    expect((await api('/orgs/acme/teams/no-such-team/memberships/alice', alice)).status).toBe(404);
    expect((await api('/orgs/acme/teams/platform/memberships/alice', await signIn('mallory'))).status).toBe(404);
    // erin's invitation to the team made her a pending org member: she cannot see the team yet.
    expect((await api('/orgs/acme/teams/platform/memberships/erin', await signIn('erin'))).status).toBe(404);
  });

  it('answers 401 without a token and 403 to a token without the Members read permission', async () => {
    expect((await api('/orgs/acme/teams/platform/memberships/alice')).status).toBe(401);
    const noPermission = await api(
      '/orgs/acme/teams/platform/memberships/alice',
      await signIn('alice', NO_MEMBERS_APP),
    );
    expect(noPermission.status).toBe(403);
  });

  it('answers 404 once the member leaves the team, and once they leave the org (which takes them out of its teams)', async () => {
    github.setMembership({ org: 'squad-co', team: 'core', login: 'sam' });
    github.setMembership({ org: 'squad-co', team: 'core', login: 'tess' });
    const sam = await signIn('sam');
    expect((await api('/orgs/squad-co/teams/core/memberships/sam', sam)).status).toBe(200);
    github.removeMembership({ org: 'squad-co', team: 'core', login: 'sam' });
    expect((await api('/orgs/squad-co/teams/core/memberships/sam', sam)).status).toBe(404);
    const tess = await signIn('tess');
    github.removeMembership({ org: 'squad-co', login: 'tess' });
    github.setMembership({ org: 'squad-co', login: 'tess' });
    expect((await api('/orgs/squad-co/teams/core/memberships/tess', tess)).status).toBe(404);
  });
});

describe('GET /orgs/{org}/members/{username} at the stand-in GitHub', () => {
  it('answers 204 for an active member and 404 for a pending one or a stranger, to a member', async () => {
    const alice = await signIn('alice');
    expect((await api('/orgs/acme/members/bob', alice)).status).toBe(204);
    expect((await api('/orgs/acme/members/carol', alice)).status).toBe(404);
    expect((await api('/orgs/acme/members/mallory', alice)).status).toBe(404);
  });

  it('sends a caller who is no member to public_members with a 302, which answers 204 only for public members', async () => {
    const mallory = await signIn('mallory');
    const redirected = await api('/orgs/acme/members/bob', mallory);
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe(`${github.url}/orgs/acme/public_members/bob`);
    expect((await api('/orgs/acme/public_members/bob', mallory)).status).toBe(404);
    expect((await api('/orgs/acme/public_members/alice', mallory)).status).toBe(204);
  });
});

describe('GET /orgs/{org} at the stand-in GitHub', () => {
  it('answers an organization without a token, its login spelled as GitHub spells it whatever the case of the path', async () => {
    github.setMembership({ org: 'Mixed-Case-Org', login: 'mia' });
    const response = await api('/orgs/mixed-case-ORG');
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      login: 'Mixed-Case-Org',
      id: expect.any(Number),
      url: `${github.url}/orgs/Mixed-Case-Org`,
      html_url: expect.stringContaining('/Mixed-Case-Org'),
      name: expect.any(String),
      description: null,
      type: 'Organization',
    });
    expect(await json(await api('/orgs/Mixed-Case-Org', await signIn('mia')))).toEqual(body);
  });

  it('answers 404 { message: "Not Found", documentation_url } for an organization that does not exist', async () => {
    const response = await api('/orgs/no-such-org');
    expect(response.status).toBe(404);
    expect(await json(response)).toMatchObject({ message: 'Not Found', documentation_url: expect.any(String) });
    expect((await api('/orgs/dormant-dora')).status).toBe(404);
  });

  it('answers 401 "Bad credentials" to a token it did not issue, as GitHub does', async () => {
    const response = await api('/orgs/acme', 'ghu_not-issued-here');
    expect(response.status).toBe(401);
    expect(await json(response)).toMatchObject({ message: 'Bad credentials', documentation_url: expect.any(String) });
  });
});

describe('GET /users/{username} at the stand-in GitHub', () => {
  it('answers a person who exists before any sign-in (from the file) with login and id, and 404 for a login nobody has', async () => {
    const token = await signIn('alice');
    const found = await api('/users/dormant-dora', token);
    expect(found.status).toBe(200);
    expect(await json(found)).toMatchObject({ login: 'dormant-dora', id: expect.any(Number) });
    expect((await api('/users/nobody-here', token)).status).toBe(404);
  });

  it('answers without a token, as GitHub does, and 401 "Bad credentials" to a token it did not issue', async () => {
    const open = await api('/users/dormant-dora');
    expect(open.status).toBe(200);
    expect(await json(open)).toMatchObject({
      login: 'dormant-dora',
      id: github.addUser('dormant-dora').id,
      type: 'User',
    });
    expect((await api('/users/nobody-here')).status).toBe(404);
    const forged = await api('/users/dormant-dora', 'ghu_not-issued-here');
    expect(forged.status).toBe(401);
    expect(await json(forged)).toMatchObject({ message: 'Bad credentials', documentation_url: expect.any(String) });
  });

  it('answers an organization\'s login with type "Organization" and the organization\'s id', async () => {
    const org = await json(await api('/orgs/acme'));
    const response = await api('/users/ACME');
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ login: 'acme', id: org.id, type: 'Organization' });
  });

  it('keeps the id through a rename: the new login finds it, the old one 404s, the token stays valid, and whoever takes the old login gets another id', async () => {
    github.setMembership({ org: 'rename-co', login: 'old-name' });
    const token = await signIn('old-name');
    const before = await json(await api('/users/old-name', token));
    github.renameUser('old-name', 'new-name');
    const after = await json(await api('/users/new-name', token));
    expect(after).toMatchObject({ login: 'new-name', id: before.id });
    expect((await api('/users/old-name', token)).status).toBe(404);
    expect(await json(await api('/user', token))).toMatchObject({ login: 'new-name', id: before.id });
    expect(await json(await api('/user/memberships/orgs/rename-co', token))).toMatchObject({
      user: { login: 'new-name', id: before.id },
    });
    const newcomer = await json(await api('/user', await signIn('old-name')));
    expect(newcomer.login).toBe('old-name');
    expect(newcomer.id).not.toBe(before.id);
  });
});

describe('the stand-in GitHub failure switch', () => {
  it('answers 5xx to the REST API during an outage, leaves everyone else unaffected when scoped to one person, and recovers when it ends', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    github.startOutage({ status: 502, login: 'alice' });
    expect((await api('/user/memberships/orgs/acme', alice)).status).toBe(502);
    expect((await api('/user', alice)).status).toBe(502);
    expect((await api('/user/memberships/orgs/acme', bob)).status).toBe(200);
    github.endOutage();
    expect((await api('/user/memberships/orgs/acme', alice)).status).toBe(200);
  });

  it('runs outages of different scopes at once, and ending one leaves the other running', async () => {
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    github.startOutage({ status: 500, login: 'alice' });
    github.startOutage({ status: 504, login: 'bob' });
    github.endOutage({ login: 'alice' });
    expect((await api('/user', alice)).status).toBe(200);
    expect((await api('/user', bob)).status).toBe(504);
    github.endOutage({ login: 'bob' });
    expect((await api('/user', bob)).status).toBe(200);
  });

  it('covers the lookups made without a token: an unscoped outage, one scoped to the org for /orgs/{org}, one scoped to the login for /users/{username}', async () => {
    github.setMembership({ org: 'outage-lookup-co', login: 'olga' });
    github.startOutage({ status: 503, org: 'outage-lookup-co' });
    expect((await api('/orgs/outage-lookup-co')).status).toBe(503);
    expect((await api('/orgs/acme')).status).toBe(200);
    github.endOutage({ org: 'outage-lookup-co' });
    github.startOutage({ status: 502, login: 'olga' });
    expect((await api('/users/olga')).status).toBe(502);
    expect((await api('/users/dormant-dora')).status).toBe(200);
    github.endOutage({ login: 'olga' });
    github.startOutage({ status: 500 });
    expect((await api('/orgs/outage-lookup-co')).status).toBe(500);
    expect((await api('/users/olga')).status).toBe(500);
    github.endOutage();
    expect((await api('/orgs/outage-lookup-co')).status).toBe(200);
    expect((await api('/users/olga')).status).toBe(200);
  });

  it('ends an outage given forMs by itself', async () => {
    const alice = await signIn('alice');
    github.startOutage({ status: 503, forMs: 1, org: 'acme' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await api('/user/memberships/orgs/acme', alice)).status).toBe(200);
  });

  it('answers nothing during a timeout outage: the request is held, then its connection dropped when the outage ends', async () => {
    const alice = await signIn('alice');
    github.startOutage({ timeout: true, org: 'acme' });
    const pending = api('/user/memberships/orgs/acme', alice).then(
      (response) => `answered ${response.status}`,
      () => 'no answer',
    );
    const settledEarly = await Promise.race([
      pending,
      new Promise((resolve) => setTimeout(() => resolve('held'), 200)),
    ]);
    expect(settledEarly).toBe('held');
    github.endOutage();
    expect(await pending).toBe('no answer');
  });
});

describe('the stand-in GitHub control routes and memberships page', () => {
  it('change memberships, people and outages over HTTP with JSON (what Worker tests call), and answer 400 with the reason to a request they cannot carry out', async () => {
    const control = standInControl(github.url);
    await control.setMembership({ org: 'http-co', team: 'ops', login: 'hank' });
    const hank = await signIn('hank');
    expect((await api('/orgs/http-co/teams/ops/memberships/hank', hank)).status).toBe(200);
    expect(await control.removeMembership({ org: 'http-co', login: 'hank' })).toBe(true);
    expect((await api('/user/memberships/orgs/http-co', hank)).status).toBe(404);
    const ivy = await control.addUser('ivy-early');
    expect(await control.renameUser('ivy-early', 'ivy-late')).toEqual({ id: ivy.id, login: 'ivy-late' });
    await control.startOutage({ status: 500, login: 'hank' });
    expect((await api('/user', hank)).status).toBe(500);
    await control.endOutage({ login: 'hank' });
    expect((await api('/user', hank)).status).toBe(200);
    await expect(control.setMembership({ org: 'http-co', login: 'not a login' })).rejects.toThrow(/400/);
    await expect(control.removeMembership({ org: 'http-co' } as never)).rejects.toThrow(/400/);
    await expect(control.renameUser('nobody-at-all', 'someone')).rejects.toThrow(/400 No stand-in user/);
  });

  it('lists memberships on its page and changes them from its form, refusing a post from another origin', async () => {
    const page = await (await fetch(`${github.url}/_stand-in/memberships`)).text();
    expect(page).toContain('<td>acme</td><td>platform</td><td>alice</td><td>active</td><td>maintainer</td>');
    const post = (fields: Record<string, string>, origin = github.url) =>
      fetch(`${github.url}/_stand-in/memberships`, {
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    const added = await post({ org: 'form-co', team: '', login: 'gina', state: 'pending', action: 'add' });
    expect(await added.text()).toContain('gina is pending in form-co.');
    const gina = await signIn('gina');
    expect(await json(await api('/user/memberships/orgs/form-co', gina))).toMatchObject({ state: 'pending' });
    await post({ org: 'form-co', login: 'gina', action: 'remove' });
    expect((await api('/user/memberships/orgs/form-co', gina)).status).toBe(404);
    const foreign = await post({ org: 'form-co', login: 'gina', action: 'add' }, 'https://evil.example');
    expect(foreign.status).toBe(403);
    expect((await api('/user/memberships/orgs/form-co', gina)).status).toBe(404);
  });

  it('refuses to start with a memberships file that is not valid, naming the file and what is wrong', async () => {
    const bad = path.join(folder, 'bad.json');
    writeFileSync(bad, JSON.stringify({ memberships: [{ org: 'acme', login: 'x', state: 'invited' }] }));
    await expect(
      startStandInGitHub({ clientId: 'a', clientSecret: 'b', callbackUrls: [CALLBACK], membershipsFile: bad }),
    ).rejects.toThrow(`${bad}: state is "active" or "pending".`);
  });
});
