import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInGitHub, startStandInGitHub } from '../../scripts/lib/dev/stand-in-github.ts';
import { pickStandInUser } from '../../scripts/lib/dev/stand-in-github-picker.ts';

/** The stand-in's authorize page, the one GitHub page a person sees in `npm run dev` and the tests. */
const CALLBACK = 'http://127.0.0.1/auth/github/callback';
const APP = { clientId: 'Iv1.authorize-page-test', clientSecret: 'authorize-page-secret' };

let github: StandInGitHub;

beforeAll(async () => {
  github = await startStandInGitHub({
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    callbackUrls: [CALLBACK],
    memberships: {
      memberships: [
        { org: 'acme', login: 'octocat' },
        { org: 'acme', team: 'platform', login: 'octocat', state: 'pending' },
      ],
    },
  });
});

afterAll(async () => {
  await github?.close();
});

function authorizeUrl(state = 'the-state'): URL {
  const url = new URL(`${github.url}/login/oauth/authorize`);
  url.searchParams.set('client_id', APP.clientId);
  url.searchParams.set('redirect_uri', CALLBACK);
  url.searchParams.set('state', state);
  return url;
}

async function authorizePage(): Promise<string> {
  const response = await fetch(authorizeUrl());
  expect(response.status).toBe(200);
  return response.text();
}

/** What a browser does with an `<input pattern>`: compile `^(?:pattern)$` with the `v` flag (HTML spec). */
function compileAsBrowsersDo(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`, 'v');
}

describe("the stand-in GitHub's authorize page", () => {
  it('has a viewport meta, so it is readable on a phone', async () => {
    expect(await authorizePage()).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it("has a login field whose pattern compiles with the v flag, as Chromium compiles it, and checks GitHub's login rule", async () => {
    const page = await authorizePage();
    const raw = /<input name="login" pattern="([^"]*)"/.exec(page)?.[1];
    expect(raw).toBeDefined();
    const pattern = (raw ?? '').replaceAll('&#92;', '\\');
    const rule = compileAsBrowsersDo(pattern);
    for (const good of ['octocat', 'mona-lisa', 'a', 'A1-b2']) expect(rule.test(good), good).toBe(true);
    for (const bad of ['-octocat', 'octo cat', 'octo_cat', 'a'.repeat(40), 'mona/lisa']) {
      expect(rule.test(bad), bad).toBe(false);
    }
  });

  it('shows the memberships each offered person has, and links to the memberships page', async () => {
    const page = await authorizePage();
    expect(page).toContain('acme (active member)');
    expect(page).toContain('acme/platform (pending)');
    expect(page).toContain('<a href="/_stand-in/memberships">');
  });

  it('has a Cancel button that skips the form check', async () => {
    expect(await authorizePage()).toContain(
      '<button type="submit" name="cancel" value="1" formnovalidate>Cancel</button>',
    );
  });

  it("Cancel goes back to the redirect_uri with GitHub's access_denied error and the state, and issues no code", async () => {
    const url = authorizeUrl('state-123');
    const form = new URLSearchParams({ cancel: '1' });
    for (const name of ['client_id', 'redirect_uri', 'state']) form.set(name, url.searchParams.get(name) ?? '');
    const response = await fetch(`${github.url}/login/oauth/authorize`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
    expect([...location.searchParams.keys()]).toEqual(['error', 'error_description', 'error_uri', 'state']);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('error_description')).toBe('The user has denied your application access.');
    expect(location.searchParams.get('error_uri')).toBe(
      '/apps/building-integrations/setting-up-and-registering-oauth-apps/troubleshooting-authorization-request-errors/#access-denied',
    );
    expect(location.searchParams.get('state')).toBe('state-123');
  });

  it('Cancel with an unregistered redirect_uri is refused on the page, not redirected', async () => {
    const form = new URLSearchParams({
      cancel: '1',
      client_id: APP.clientId,
      redirect_uri: 'https://elsewhere.example/callback',
      state: 's',
    });
    const response = await fetch(`${github.url}/login/oauth/authorize`, {
      method: 'POST',
      body: form,
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('The redirect_uri is not associated with this application.');
  });

  it('picking a person still answers a code and the state', async () => {
    const response = await pickStandInUser(authorizeUrl('s-9'), 'octocat');
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('code')).toMatch(/^[0-9a-f]{20}$/);
    expect(location.searchParams.get('state')).toBe('s-9');
  });
});
