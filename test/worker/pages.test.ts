import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Bindings, readConfig } from '../../src/config.ts';
import { accessPendingPage, landingPage } from '../../src/pages/pages.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { gatewayCookie, landingHtml, postSignOut, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

const BROWSER = { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

const tokenService = (redirectUris = [SERVICE_REDIRECT]) =>
  registerService(database, { redirectUris, scopes: ['users:verify', 'github:token'] });

function problemsOf(settings: Partial<Bindings>): string[] {
  const result = readConfig({ ...env, ...settings });
  return result.ok ? [] : result.problems;
}

describe("the operator's words: GATEWAY_NAME, GATEWAY_LOGO_URL, GATEWAY_CONTACT", () => {
  it('names the gateway "Gateway" and shows no logo or contact when none is set', async () => {
    const page = await (await callWorker(database.env, '/')).text();
    expect(page).toContain('<title>Sign in · Gateway</title>');
    expect(page).toContain('<header class="site"><a class="home" href="/">Gateway</a></header>');
  });

  it("shows the operator's name and logo in every page's header and title, and allows exactly the logo's origin in img-src", async () => {
    const branded = {
      ...database.env,
      GATEWAY_NAME: 'Acme <Access>',
      GATEWAY_LOGO_URL: 'https://cdn.example.com/brand/logo.svg',
    };
    for (const path of ['/', '/no-such-page']) {
      const response = await callWorker(branded, path, { headers: BROWSER });
      const page = await response.text();
      expect(page).toContain('· Acme &lt;Access&gt;</title>');
      expect(page).toContain(
        '<header class="site"><a class="home" href="/"><img src="https://cdn.example.com/brand/logo.svg" alt="" height="32">Acme &lt;Access&gt;</a></header>',
      );
      expect(response.headers.get('content-security-policy')).toContain(
        "img-src 'self' https://avatars.githubusercontent.com https://cdn.example.com;",
      );
    }
  });

  it('refuses a name, logo or contact line with a control character, a logo that is not https, and overlong text', () => {
    expect(problemsOf({ GATEWAY_NAME: 'Acme\u202eAccess' })).toEqual([
      expect.stringMatching(/^GATEWAY_NAME must not contain control or invisible characters/),
    ]);
    expect(problemsOf({ GATEWAY_CONTACT: 'Ask #it-help\nfor access' })).toEqual([
      expect.stringMatching(/^GATEWAY_CONTACT must not contain control or invisible characters/),
    ]);
    expect(problemsOf({ GATEWAY_NAME: 'x'.repeat(61) })).toEqual(['GATEWAY_NAME must be at most 60 characters']);
    expect(problemsOf({ GATEWAY_CONTACT: 'x'.repeat(201) })).toEqual([
      'GATEWAY_CONTACT must be at most 200 characters',
    ]);
    for (const logo of [
      'http://cdn.example.com/logo.svg',
      'https://user:pw@cdn.example.com/logo.svg',
      'https://cdn;script-src.example.com/logo.svg',
      'data:image/svg+xml,<svg/>',
      'logo.svg',
    ]) {
      expect(problemsOf({ GATEWAY_LOGO_URL: logo }), logo).toEqual([
        'GATEWAY_LOGO_URL must be an https URL with a plain host name and no user name or password',
      ]);
    }
    expect(problemsOf({ GATEWAY_NAME: '  Acme  ', GATEWAY_LOGO_URL: '', GATEWAY_CONTACT: '' })).toEqual([]);
  });

  it('names the service the person was on their way to on the pending page, and shows the contact line', async () => {
    const branding = { name: 'Acme', logoUrl: null, contact: 'Ask #it-help for access' };
    const page = String(
      await accessPendingPage(branding, {
        login: 'octo',
        retryPath: '/login?service=wiki',
        service: { name: 'The <Wiki>', backUrl: 'https://wiki.example.com/cb?error=access_denied&state=s' },
      }),
    );
    expect(page).toContain('<p>You were on your way to <strong>The &lt;Wiki&gt;</strong>.</p>');
    expect(page).toContain('<p class="contact">Ask #it-help for access</p>');
    expect(page).toContain(
      '<a href="https://wiki.example.com/cb?error=access_denied&amp;state=s">Back to The &lt;Wiki&gt;</a>',
    );
    const plain = String(
      await accessPendingPage({ ...branding, contact: null }, { login: 'octo', retryPath: '/login', service: null }),
    );
    expect(plain).not.toContain('on your way to');
    expect(plain).not.toContain('class="contact"');
  });

  it('says why, one sentence per refusal code, on the signed-out landing', async () => {
    const branding = { name: 'Gateway', logoUrl: null, contact: null };
    const why = async (code: 'not_whitelisted' | 'not_a_member' | 'membership_unverified') =>
      String(await landingPage(branding, { kind: 'refused', login: 'octo', code }));
    expect(await why('not_whitelisted')).toContain(
      'Your GitHub account <strong>octo</strong> is no longer on the list of people allowed in.',
    );
    expect(await why('not_a_member')).toContain(
      'GitHub says <strong>octo</strong> is no longer a member of an organization or team that admits people here.',
    );
    expect(await why('membership_unverified')).toContain(
      'GitHub has not confirmed lately that <strong>octo</strong> is a member of an organization or team that admits people here.',
    );
  });
});

describe('the signed-in landing', () => {
  it('links each service’s name to its return address’s origin, and shows times as <time> with UTC in the title', async () => {
    const a = await tokenService(['https://app.example.com/auth/done', 'https://other.example.com/cb']);
    const person = await signedInPerson(database, a);
    const page = await landingHtml(database, await gatewayCookie(database, person.login));
    expect(page).toContain(`<a href="https://app.example.com">Test ${a.identifier}</a>`);
    expect(page).toMatch(
      /last signed in <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/time>/,
    );
    expect(page).toContain('<script src="/assets/local-time.js" defer></script>');
  });

  it('serves the local-time script from /assets, allowed by script-src self and no inline script', async () => {
    const script = await callWorker(database.env, '/assets/local-time.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain("document.querySelectorAll('time[datetime]')");
    const csp = (await callWorker(database.env, '/')).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('words the two sign-outs apart: "Sign out of this gateway" and "Sign out of every service"', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const page = await landingHtml(database, await gatewayCookie(database, person.login));
    expect(page).toContain('<button type="submit">Sign out of this gateway</button>');
    expect(page).toContain(
      '<input type="hidden" name="everywhere" value="1"><button type="submit">Sign out of every service</button>',
    );
    expect(page).not.toContain('>Sign out<');
    expect(page).not.toContain('Sign out everywhere');
  });

  it('confirms "Signed out of <name>." after signing out of one service, and ignores an id still listed, unknown or malformed', async () => {
    const [a, b] = [await tokenService(), await tokenService()];
    const person = await signedInPerson(database, a);
    const cookie = await gatewayCookie(database, person.login);
    const { signIn } = await import('../support/worker/sign-in-flow.ts');
    await signIn(
      database.env,
      person.login,
      `?service=${b.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const left = await postSignOut(database, cookie, { service: a.id });
    expect(left.status).toBe(303);
    const at = (query: string) =>
      callWorker(database.env, `/${query}`, { headers: { Cookie: cookie } }).then((r) => r.text());

    expect(await at(`?signed_out_of=${a.id}`)).toContain(
      `<p class="notice" role="status">Signed out of Test ${a.identifier}.</p>`,
    );
    for (const query of [
      `?signed_out_of=${b.id}`,
      `?signed_out_of=${crypto.randomUUID()}`,
      '?signed_out_of=not-a-uuid',
      '?signed_out_of=',
    ]) {
      expect(await at(query), query).not.toContain('class="notice"');
    }
  });

  it('tells a person no longer whitelisted why they are signed out, instead of the anonymous sign-in page', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const cookie = await gatewayCookie(database, person.login);
    await whitelist(database, person.login, false);
    const page = await landingHtml(database, cookie);
    expect(page).toContain('<h1>You are signed out</h1>');
    expect(page).toContain(`Your GitHub account <strong>${person.login}</strong> is no longer on the list`);
    expect(page).toContain('Sign in with GitHub');
  });
});

describe('pages for browsers, JSON for programs', () => {
  it('answers an unknown path with the HTML 404 page when the browser asks for HTML (Accept or Sec-Fetch-Dest)', async () => {
    for (const headers of [BROWSER, { 'Sec-Fetch-Dest': 'document' }]) {
      const response = await callWorker(database.env, '/no-such-page', { headers });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const page = await response.text();
      expect(page).toContain('<h1>Page not found</h1>');
      expect(page).toContain('Error code: not_found');
      expect(page).toContain('<a class="button" href="/">Back to the start</a>');
    }
  });

  it('keeps the JSON 404 for API clients and for every /v1 path, whatever the Accept header', async () => {
    const api = await callWorker(database.env, '/no-such-page', { headers: { Accept: 'application/json' } });
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await api.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /no-such-page.' } });
    const v1 = await callWorker(database.env, '/v1/no-such-route', { headers: BROWSER });
    expect(v1.status).toBe(404);
    expect(await v1.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /v1/no-such-route.' } });
  });

  it('answers GET /logout from a browser with a 405 page whose form signs out and whose link goes back to /', async () => {
    const response = await callWorker(database.env, '/logout', { headers: BROWSER });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    const page = await response.text();
    expect(page).toContain(
      '<form method="post" action="/logout"><button type="submit">Sign out of this gateway</button></form>',
    );
    expect(page).toContain('<a href="/">Back to the start</a>');
    const api = await callWorker(database.env, '/logout');
    expect(api.status).toBe(405);
    expect(await api.json()).toEqual({
      error: { code: 'method_not_allowed', message: 'GET is not allowed here; use POST.' },
    });
  });

  it('serves an SVG favicon linked from every page, and answers /favicon.ico with 204', async () => {
    const icon = await callWorker(database.env, '/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const ico = await callWorker(database.env, '/favicon.ico', { headers: BROWSER });
    expect(ico.status).toBe(204);
    expect(await (await callWorker(database.env, '/')).text()).toContain(
      '<link rel="icon" href="/favicon.svg" type="image/svg+xml">',
    );
  });
});
