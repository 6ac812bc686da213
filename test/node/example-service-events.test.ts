import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../scripts/lib/dev/ports.ts';
import { type RunningChild, runScript } from '../support/node/child.ts';

/**
 * examples/service/main.ts with GATEWAY_EVENTS_SECRET: the events route and page, with deliveries
 * signed by the reference implementation (the `standardwebhooks` package). The gateway's own
 * deliveries to it are test/e2e's; here the gateway is never contacted.
 */
const SCRIPT = 'examples/service/main.ts';
const GATEWAY_URL = 'http://127.0.0.1:9';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function signed(body: unknown, secret = SECRET): { headers: Record<string, string>; body: string } {
  const id = `msg_${randomBytes(16).toString('hex')}`;
  const text = JSON.stringify(body);
  const now = new Date();
  return {
    headers: {
      'Content-Type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, text),
    },
    body: text,
  };
}

function sessionEnded(sessionId: string) {
  return {
    type: 'session.ended',
    timestamp: new Date().toISOString(),
    data: {
      user: { id: randomUUID(), github_id: '583231', login: 'octocat' },
      session_ids: [sessionId],
      reason: 'signed_out_everywhere',
    },
  };
}

const baseEnv = { PATH: process.env.PATH, GATEWAY_URL, SERVICE_ID: 'demo', SERVICE_KEY: 'gwk_not_a_real_key' };

describe('the example service with GATEWAY_EVENTS_SECRET', () => {
  it('refuses to start with a GATEWAY_EVENTS_SECRET that is not whsec_ and base64, saying what to set', async () => {
    const run = runScript(SCRIPT, [], { ...baseEnv, PORT: '3999', GATEWAY_EVENTS_SECRET: 'not-a-secret' });
    expect(await run.exited).toBe(2);
    expect(run.output().trim()).toBe(
      'GATEWAY_EVENTS_SECRET is not an events secret: set it to the whsec_… that `gateway services events set` printed.',
    );
  });

  describe('started', () => {
    let run: RunningChild;
    let url: string;

    beforeAll(async () => {
      const port = await findFreePort();
      url = `http://localhost:${port}`;
      run = runScript(SCRIPT, [], { ...baseEnv, PORT: String(port), GATEWAY_EVENTS_SECRET: SECRET });
      await run.waitFor('events taken at');
    });

    afterAll(async () => {
      run?.child.kill();
      await run?.exited;
    });

    it('says where events are taken', () => {
      expect(run.output()).toContain(`events taken at ${url}/gateway/events`);
    });

    it('a signed session.ended answers 204 and is listed on /events; the same delivery again answers 204 and is listed once', async () => {
      const sessionId = randomUUID();
      const delivery = signed(sessionEnded(sessionId));
      const first = await fetch(`${url}/gateway/events`, { method: 'POST', ...delivery });
      expect(first.status).toBe(204);
      const again = await fetch(`${url}/gateway/events`, { method: 'POST', ...delivery });
      expect(again.status).toBe(204);
      const page = await (await fetch(`${url}/events`)).text();
      expect(page.split(delivery.headers['webhook-id'] ?? '')).toHaveLength(2);
      expect(page).toContain('<tr data-type="session.ended" data-reason="signed_out_everywhere">');
      expect(page).toContain(sessionId.slice(0, 8));
    });

    it('a delivery signed with another secret answers 401 bad_signature and is not listed', async () => {
      const delivery = signed(sessionEnded(randomUUID()), `whsec_${randomBytes(32).toString('base64')}`);
      const answer = await fetch(`${url}/gateway/events`, { method: 'POST', ...delivery });
      expect(answer.status).toBe(401);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
      expect(await (await fetch(`${url}/events`)).text()).not.toContain(delivery.headers['webhook-id']);
    });

    it('a session the gateway said ended is refused without asking verify: its cookie ended, "the gateway told us"', async () => {
      const sessionId = randomUUID();
      const token = `gws_${sessionId}.${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`;
      // Before the event the home page asks verify, and the gateway (nothing listens there) does not answer.
      const before = await fetch(`${url}/`, { headers: { Cookie: `demo_session=${token}` } });
      expect(before.status).toBe(502);
      const delivery = signed(sessionEnded(sessionId));
      expect((await fetch(`${url}/gateway/events`, { method: 'POST', ...delivery })).status).toBe(204);
      const after = await fetch(`${url}/`, { headers: { Cookie: `demo_session=${token}` } });
      expect(after.status).toBe(200);
      expect(await after.text()).toContain('Your session ended (signed_out_everywhere, the gateway told us).');
      expect(after.headers.getSetCookie()).toEqual(['demo_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0']);
    });
  });
});
