import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { type RunningChild, runScript } from '../support/node/child.ts';

/**
 * examples/service/main.ts started as a person would, from its environment. Its whole sign-in
 * against a running gateway is test/e2e's (test/support/node/demo-service.ts starts it there);
 * here, what it answers without asking the gateway anything.
 */
const SCRIPT = 'examples/service/main.ts';
// Never contacted by these tests: nothing listens on the discard port.
const GATEWAY_URL = 'http://127.0.0.1:9';

describe('the example service from its environment', () => {
  it('refuses to start without SERVICE_KEY, naming the variables to set', async () => {
    const run = runScript(SCRIPT, [], { PATH: process.env.PATH, GATEWAY_URL, SERVICE_ID: 'demo', PORT: '3999' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe(
      'SERVICE_KEY is not set: run with GATEWAY_URL, SERVICE_ID, SERVICE_KEY and PORT set (docs/api.md, "An example service").',
    );
  });

  describe('started', () => {
    let run: RunningChild;
    let url: string;

    beforeAll(async () => {
      const port = await findFreePort();
      url = `http://localhost:${port}`;
      run = runScript(SCRIPT, [], {
        PATH: process.env.PATH,
        GATEWAY_URL,
        SERVICE_ID: 'demo',
        SERVICE_KEY: 'gwk_not_a_real_key',
        PORT: String(port),
      });
      await run.waitFor('listening on');
    });

    afterAll(async () => {
      run?.child.kill();
      await run?.exited;
    });

    it('says which redirect URI to register', () => {
      expect(run.output()).toContain(`demo listening on ${url}: register ${url}/auth/done as its redirect URI`);
    });

    it('offers "Sign in" to a browser without a session', async () => {
      const answer = await fetch(`${url}/`);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toContain('<a href="/login">Sign in</a>');
    });

    it("/login redirects to the gateway's sign-in link (state, S256 challenge) and keeps state and verifier in an HttpOnly cookie for 10 minutes", async () => {
      const answer = await fetch(`${url}/login`, { redirect: 'manual' });
      expect(answer.status).toBe(302);
      const link = new URL(answer.headers.get('location') ?? '');
      expect(`${link.origin}${link.pathname}`).toBe(`${GATEWAY_URL}/login`);
      expect(link.searchParams.get('service')).toBe('demo');
      expect(link.searchParams.get('redirect_uri')).toBe(`${url}/auth/done`);
      expect(link.searchParams.get('code_challenge_method')).toBe('S256');
      const state = link.searchParams.get('state') ?? '';
      expect(state).toMatch(/^[\w-]{43}$/);
      const cookie = answer.headers.getSetCookie()[0] ?? '';
      expect(cookie).toMatch(
        new RegExp(`^demo_sign_in=${state}\\.[\\w-]{43}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600$`),
      );
    });

    it('a callback whose state this browser did not keep signs nobody in: "state differs", no session cookie', async () => {
      const answer = await fetch(`${url}/auth/done?error=access_denied&state=forged`);
      expect(answer.status).toBe(401);
      const page = await answer.text();
      expect(page).toContain('<p id="error">state_mismatch</p>');
      expect(page).toContain('<p id="state-check">state differs</p>');
      expect(answer.headers.getSetCookie().some((cookie) => cookie.startsWith('demo_session='))).toBe(false);
    });

    it('a refusal of its own sign-in shows error and gateway_error, and keeps the sign-in cookie (the pending page may still continue)', async () => {
      const answer = await fetch(
        `${url}/auth/done?error=access_denied&error_description=Not+let+in&gateway_error=not_whitelisted&state=S1`,
        { headers: { Cookie: 'demo_sign_in=S1.V1' } },
      );
      expect(answer.status).toBe(401);
      const page = await answer.text();
      expect(page).toContain('<p id="error">access_denied</p>');
      expect(page).toContain('<p id="state-check">state matches</p>');
      expect(page).toContain('<dd id="answer-gateway_error">not_whitelisted</dd>');
      expect(page).toContain('<dd id="answer-error_description">Not let in</dd>');
      expect(answer.headers.getSetCookie()).toEqual([]);
    });
  });
});
