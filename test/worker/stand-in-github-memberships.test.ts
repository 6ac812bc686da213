import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { OTHER_STAND_IN_APPS, TEST_CALLBACK_URL } from '../support/stand-in-client.ts';
import { standInUserToken } from '../support/stand-in-user-token.ts';
import { uniqueLogin } from '../support/worker/sign-in-flow.ts';

/**
 * The stand-in GitHub's control routes from inside workerd, as the admission tests use them: the
 * stand-in is shared by every test file, so each test names its own people and orgs.
 */
const control = () => standInControl(env.GITHUB_API_URL);

/** A GitHub user token for `login`, through the stand-in's OAuth flow, for the app given. */
async function userToken(
  login: string,
  app = { clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET },
): Promise<string> {
  return standInUserToken({ githubUrl: env.GITHUB_OAUTH_URL, login, app, callbackUrl: TEST_CALLBACK_URL });
}

const membership = (org: string, token: string) =>
  fetch(`${env.GITHUB_API_URL}/user/memberships/orgs/${org}`, { headers: { Authorization: `Bearer ${token}` } });

describe('the stand-in GitHub, driven from a Worker test', () => {
  it('removes a member while their token is in use: the membership answers 200, then 404', async () => {
    const login = uniqueLogin('member');
    const org = uniqueLogin('org');
    await control().setMembership({ org, login });
    const token = await userToken(login);
    expect((await membership(org, token)).status).toBe(200);
    expect(await control().removeMembership({ org, login })).toBe(true);
    expect((await membership(org, token)).status).toBe(404);
  });

  it('fails the membership API with 503 for one person only while their outage runs', async () => {
    const login = uniqueLogin('outage');
    const other = uniqueLogin('bystander');
    const org = uniqueLogin('org');
    await control().setMembership({ org, login });
    await control().setMembership({ org, login: other });
    const [token, otherToken] = [await userToken(login), await userToken(other)];
    await control().startOutage({ status: 503, login });
    expect((await membership(org, token)).status).toBe(503);
    expect((await membership(org, otherToken)).status).toBe(200);
    await control().endOutage({ login });
    expect((await membership(org, token)).status).toBe(200);
  });

  it('answers 403 to a token of the app registered without the Members read permission', async () => {
    const login = uniqueLogin('no-permission');
    const org = uniqueLogin('org');
    await control().setMembership({ org, login });
    const response = await membership(org, await userToken(login, OTHER_STAND_IN_APPS.noMembersPermission));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ message: 'Resource not accessible by integration' });
  });
});
