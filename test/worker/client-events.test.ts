import { Hono } from 'hono';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { gatewayEvents } from '../../client/src/hono.ts';
import {
  ADMISSION_ENDED_REASONS,
  createGatewayEventsHandler,
  EVENT_TOLERANCE_SECONDS,
  type GatewayEvent,
  MemoryReplayStore,
  SESSION_ENDED_REASONS,
  verifyEvent,
} from '../../client/src/index.ts';
import { eventsSecretKeyBytes, generateEventsSecret } from '../../src/crypto/events-secret.ts';
import {
  admissionEndedBody,
  type AdmissionEndedReason as GatewayAdmissionEndedReason,
  type SessionEndedReason as GatewaySessionEndedReason,
  sessionEndedBody,
} from '../../src/events/event-body.ts';
import { webhookSignature } from '../../src/events/sign.ts';
import { webhookId } from '../../src/events/webhook-id.ts';

/** Secrets as the gateway prints them: whsec_ and the base64 of 32 random bytes. */
function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

function newId(): string {
  return `msg_${[...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

const NOW = Date.parse('2026-12-01T09:30:00.000Z');
const SESSION_ENDED = {
  type: 'session.ended',
  timestamp: '2026-12-01T09:30:00.000Z',
  data: {
    user: { id: '0b7e5a4c-0000-4000-8000-000000000001', github_id: '583231', login: 'octocat' },
    session_ids: ['6f1d2c3b-0000-4000-8000-000000000002'],
    reason: 'signed_out_everywhere',
  },
} as const;
const ADMISSION_ENDED = {
  type: 'admission.ended',
  timestamp: '2026-12-01T09:31:00.000Z',
  data: {
    user: { id: '0b7e5a4c-0000-4000-8000-000000000001', github_id: '583231', login: null },
    reason: 'not_a_member',
  },
} as const;

/** A delivery signed by the reference implementation (the `standardwebhooks` package), with each secret given. */
function delivery(
  secrets: string[],
  options: { body?: string; id?: string; at?: number } = {},
): { headers: Record<string, string>; body: string } {
  const id = options.id ?? newId();
  const at = new Date(options.at ?? NOW);
  const body = options.body ?? JSON.stringify(SESSION_ENDED);
  const signature = secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(' ');
  return {
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  };
}

const clock = () => NOW;
const fresh = () => ({ replays: new MemoryReplayStore({ now: clock }), now: clock });

describe('verifyEvent: deliveries signed as Standard Webhooks', () => {
  it('a session.ended signed by the standardwebhooks package verifies, typed, with its webhook-id', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    // The reference agrees that this message is good (its own clock: the timestamp is now there).
    const now = delivery([secret], { at: Date.now() });
    expect(new Webhook(secret).verify(now.body, now.headers)).toEqual(SESSION_ENDED);
    const checked = await verifyEvent(message, secret, fresh());
    expect(checked).toEqual({
      ok: true,
      id: message.headers['webhook-id'],
      type: 'session.ended',
      event: SESSION_ENDED,
    });
    if (checked.ok && checked.event?.type === 'session.ended') expect(checked.event.data.session_ids).toHaveLength(1);
  });

  it('an admission.ended verifies, from a Request as well as from headers and body', async () => {
    const secret = newSecret();
    const message = delivery([secret], { body: JSON.stringify(ADMISSION_ENDED) });
    const request = new Request('https://billing.example.com/gateway/events', {
      method: 'POST',
      headers: { ...message.headers, 'Content-Type': 'application/json' },
      body: message.body,
    });
    expect(await verifyEvent(request, secret, fresh())).toEqual({
      ok: true,
      id: message.headers['webhook-id'],
      type: 'admission.ended',
      event: ADMISSION_ENDED,
    });
  });

  it('missing_headers when webhook-id, webhook-timestamp or webhook-signature is absent or empty', async () => {
    const secret = newSecret();
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const message = delivery([secret]);
      const { [name]: _dropped, ...headers } = message.headers;
      expect(await verifyEvent({ headers, body: message.body }, secret, fresh())).toEqual({
        ok: false,
        reason: 'missing_headers',
      });
      expect(await verifyEvent({ headers: { ...headers, [name]: '' }, body: message.body }, secret, fresh())).toEqual({
        ok: false,
        reason: 'missing_headers',
      });
    }
  });

  it('bad_signature for another secret, a tampered body, a tampered id or timestamp, and a signature of another version only', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    const refused = { ok: false, reason: 'bad_signature' };
    expect(await verifyEvent(message, newSecret(), fresh())).toEqual(refused);
    const tampered = message.body.replace('signed_out_everywhere', 'signed_out');
    expect(await verifyEvent({ ...message, body: tampered }, secret, fresh())).toEqual(refused);
    expect(await verifyEvent({ ...message, body: `${message.body} ` }, secret, fresh())).toEqual(refused);
    expect(
      await verifyEvent({ ...message, headers: { ...message.headers, 'webhook-id': newId() } }, secret, fresh()),
    ).toEqual(refused);
    const laterSeconds = String(Number(message.headers['webhook-timestamp']) + 1);
    expect(
      await verifyEvent(
        { ...message, headers: { ...message.headers, 'webhook-timestamp': laterSeconds } },
        secret,
        fresh(),
      ),
    ).toEqual(refused);
    const v2Only = message.headers['webhook-signature']?.replace(/^v1,/, 'v2,') ?? '';
    expect(
      await verifyEvent({ ...message, headers: { ...message.headers, 'webhook-signature': v2Only } }, secret, fresh()),
    ).toEqual(refused);
    expect(
      await verifyEvent(
        { ...message, headers: { ...message.headers, 'webhook-signature': 'v1,not base64!' } },
        secret,
        fresh(),
      ),
    ).toEqual(refused);
  });

  it('a signature of another version next to a good v1 one is ignored: the message verifies', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    const headers = { ...message.headers, 'webhook-signature': `v1a,abcd ${message.headers['webhook-signature']}` };
    expect((await verifyEvent({ ...message, headers }, secret, fresh())).ok).toBe(true);
  });

  it('timestamp_out_of_range for a message signed more than 5 minutes ago or ahead; 5 minutes either way is taken', async () => {
    const secret = newSecret();
    const tolerance = EVENT_TOLERANCE_SECONDS * 1000;
    for (const at of [NOW - tolerance - 1000, NOW + tolerance + 1000]) {
      expect(await verifyEvent(delivery([secret], { at }), secret, fresh())).toEqual({
        ok: false,
        reason: 'timestamp_out_of_range',
      });
    }
    for (const at of [NOW - tolerance, NOW + tolerance]) {
      expect((await verifyEvent(delivery([secret], { at }), secret, fresh())).ok).toBe(true);
    }
  });

  it('a timestamp that is not whole seconds is out of range, even signed', async () => {
    const secret = newSecret();
    const id = newId();
    const body = JSON.stringify(SESSION_ENDED);
    const timestamp = `${NOW / 1000}.5`;
    const key = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0)),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
    const signature = `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
    const headers = { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature };
    expect(await verifyEvent({ headers, body }, secret, fresh())).toEqual({
      ok: false,
      reason: 'timestamp_out_of_range',
    });
  });

  it('replayed for the same message a second time; the default store (no replays option) refuses it too', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    const options = fresh();
    expect((await verifyEvent(message, secret, options)).ok).toBe(true);
    expect(await verifyEvent(message, secret, options)).toEqual({ ok: false, reason: 'replayed' });
    // The same event, signed again for a retry (a new timestamp, the same webhook-id), is a replay too.
    const retry = delivery([secret], { id: message.headers['webhook-id'], at: NOW + 5000 });
    expect(await verifyEvent(retry, secret, options)).toEqual({ ok: false, reason: 'replayed' });
    const now = delivery([secret], { at: Date.now() });
    expect((await verifyEvent(now, secret)).ok).toBe(true);
    expect(await verifyEvent(now, secret)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('the memory replay store forgets an id once its message is past the tolerance, and holds at most max ids', async () => {
    let now = NOW;
    const store = new MemoryReplayStore({ now: () => now, max: 3 });
    const secret = newSecret();
    const message = delivery([secret]);
    expect((await verifyEvent(message, secret, { replays: store, now: () => now })).ok).toBe(true);
    expect(store.has(message.headers['webhook-id'] ?? '')).toBe(true);
    now = NOW + (EVENT_TOLERANCE_SECONDS + 2) * 1000;
    expect(store.has(message.headers['webhook-id'] ?? '')).toBe(false);
    // By then the message itself is refused by its timestamp: forgetting it lets nothing through.
    expect(await verifyEvent(message, secret, { replays: store, now: () => now })).toEqual({
      ok: false,
      reason: 'timestamp_out_of_range',
    });
    for (let i = 0; i < 5; i++) store.remember(newId(), new Date(now + 60_000));
    expect(store.size).toBe(3);
  });

  it('during a rotation two signatures, the new secret first: a receiver with either secret verifies', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    const message = delivery([current, previous]);
    expect(message.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect((await verifyEvent(message, current, fresh())).ok).toBe(true);
    expect((await verifyEvent(message, previous, fresh())).ok).toBe(true);
    expect(await verifyEvent(message, newSecret(), fresh())).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('a receiver given a list of secrets takes a message signed with any one of them', async () => {
    const [current, previous] = [newSecret(), newSecret()];
    expect((await verifyEvent(delivery([previous]), [current, previous], fresh())).ok).toBe(true);
    expect((await verifyEvent(delivery([current]), [current, previous], fresh())).ok).toBe(true);
    expect(await verifyEvent(delivery([newSecret()]), [current, previous], fresh())).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('malformed_body for a signed body that is not JSON, has no type, or lacks a field of a type it knows', async () => {
    const secret = newSecret();
    const bodies = [
      'not json',
      '[]',
      JSON.stringify({ ...SESSION_ENDED, type: undefined }),
      JSON.stringify({ ...SESSION_ENDED, type: '' }),
      JSON.stringify({ ...SESSION_ENDED, data: { ...SESSION_ENDED.data, session_ids: undefined } }),
      JSON.stringify({ ...SESSION_ENDED, data: { ...SESSION_ENDED.data, reason: 7 } }),
      JSON.stringify({ ...ADMISSION_ENDED, data: { reason: 'not_a_member' } }),
      JSON.stringify({ ...ADMISSION_ENDED, timestamp: 12 }),
    ];
    for (const body of bodies) {
      expect(await verifyEvent(delivery([secret], { body }), secret, fresh())).toEqual({
        ok: false,
        reason: 'malformed_body',
      });
    }
  });

  it('a webhook-signature header sent twice (joined by ", ") still verifies by either signature', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    const good = message.headers['webhook-signature'] ?? '';
    const other = delivery([newSecret()], { id: message.headers['webhook-id'] }).headers['webhook-signature'] ?? '';
    for (const joined of [`${good}, ${other}`, `${other}, ${good}`]) {
      const headers = new Headers(message.headers);
      headers.set('webhook-signature', joined);
      const checked = await verifyEvent({ headers, body: message.body }, secret, fresh());
      expect([joined === `${good}, ${other}` ? 'good first' : 'good second', checked.ok]).toEqual([
        joined === `${good}, ${other}` ? 'good first' : 'good second',
        true,
      ]);
    }
  });

  it('body_too_large for a body past maxBodyBytes, by its Content-Length or as it streams, before any signature check', async () => {
    const secret = newSecret();
    const message = delivery([secret]);
    const small = { ...fresh(), maxBodyBytes: message.body.length - 1 };
    expect(await verifyEvent(message, secret, small)).toEqual({ ok: false, reason: 'body_too_large' });
    expect(await verifyEvent(post(message), secret, small)).toEqual({ ok: false, reason: 'body_too_large' });
    // A streamed body without Content-Length: read up to the limit, not further.
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const streamed = new Request('https://billing.example.com/gateway/events', {
      method: 'POST',
      headers: message.headers,
      body: endless,
      // @ts-expect-error: a streamed request body needs duplex in Node's and workerd's fetch types
      duplex: 'half',
    });
    expect(await verifyEvent(streamed, secret, fresh())).toEqual({ ok: false, reason: 'body_too_large' });
    expect(pulled).toBeLessThan(10);
    // At the limit it is read and checked as usual.
    expect((await verifyEvent(message, secret, { ...fresh(), maxBodyBytes: message.body.length })).ok).toBe(true);
  });

  it("a newer gateway's event type verifies with event null and its type; a reason it does not list is kept", async () => {
    const secret = newSecret();
    const newer = delivery([secret], { body: JSON.stringify({ ...SESSION_ENDED, type: 'session.started' }) });
    expect(await verifyEvent(newer, secret, fresh())).toEqual({
      ok: true,
      id: newer.headers['webhook-id'],
      type: 'session.started',
      event: null,
    });
    const reason = { ...SESSION_ENDED, data: { ...SESSION_ENDED.data, reason: 'signed_out_by_operator' } };
    const checked = await verifyEvent(delivery([secret], { body: JSON.stringify(reason) }), secret, fresh());
    expect(checked.ok && checked.event).toEqual(reason);
  });

  it('a secret that is not whsec_ and base64 throws a TypeError that does not show it', async () => {
    const message = delivery([newSecret()]);
    for (const [secret, secretPart] of [
      ['c2VjcmV0IHZhbHVl', 'c2VjcmV0IHZhbHVl'],
      ['whsec_', null],
      ['whsec_bm90IGJhc2U2NA!', 'bm90IGJhc2U2NA'],
    ] as const) {
      const error = await verifyEvent(message, secret, fresh()).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TypeError);
      if (secretPart !== null) expect(String(error)).not.toContain(secretPart);
    }
    expect(() => createGatewayEventsHandler({ secret: [], onEvent: () => {} })).toThrow(TypeError);
  });
});

/** A service's events route, asked as the gateway asks it. */
type EventsRoute = (request: Request) => Promise<Response>;

function post(message: { headers: Record<string, string>; body: string }): Request {
  return new Request('https://billing.example.com/gateway/events', {
    method: 'POST',
    headers: { ...message.headers, 'Content-Type': 'application/json' },
    body: message.body,
  });
}

for (const [label, routeOf] of [
  ['createGatewayEventsHandler', (options) => createGatewayEventsHandler(options)],
  [
    'the Hono route gatewayEvents',
    (options) => {
      const app = new Hono();
      app.post('/gateway/events', gatewayEvents(options));
      return async (request) => app.fetch(request);
    },
  ],
] as const satisfies readonly (readonly [
  string,
  (options: Parameters<typeof createGatewayEventsHandler>[0]) => EventsRoute,
])[]) {
  describe(`${label}: the events route`, () => {
    it('answers 204 after onEvent took a verified event, and 204 without calling onEvent for a replay of it', async () => {
      const secret = newSecret();
      const taken: { id: string; event: GatewayEvent }[] = [];
      const route = routeOf({ secret, now: clock, onEvent: (event, { id }) => void taken.push({ id, event }) });
      const message = delivery([secret]);
      const first = await route(post(message));
      expect(first.status).toBe(204);
      expect(taken).toEqual([{ id: message.headers['webhook-id'], event: SESSION_ENDED }]);
      const again = await route(post(message));
      expect(again.status).toBe(204);
      expect(taken).toHaveLength(1);
    });

    it('answers 401 bad_signature and 401 timestamp_out_of_range, 400 missing_headers and 400 malformed_body, 413 body_too_large, as JSON errors, without calling onEvent', async () => {
      const secret = newSecret();
      let calls = 0;
      const route = routeOf({ secret, now: clock, onEvent: () => void calls++ });
      const cases: [Request, number, string][] = [
        [post(delivery([newSecret()])), 401, 'bad_signature'],
        [post(delivery([secret], { at: NOW - 10 * 60_000 })), 401, 'timestamp_out_of_range'],
        [post({ headers: {}, body: '{}' }), 400, 'missing_headers'],
        [post(delivery([secret], { body: '{"type":"session.ended"}' })), 400, 'malformed_body'],
        [post(delivery([secret], { body: ' '.repeat(300 * 1024) })), 413, 'body_too_large'],
      ];
      for (const [request, status, code] of cases) {
        const answer = await route(request);
        expect(answer.status).toBe(status);
        const body = (await answer.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe(code);
        expect(body.error.message).toEqual(expect.any(String));
      }
      expect(calls).toBe(0);
    });

    it("answers 204 to a newer gateway's event type without calling onEvent, so the gateway does not send it again", async () => {
      const secret = newSecret();
      let calls = 0;
      const route = routeOf({ secret, now: clock, onEvent: () => void calls++ });
      const newer = delivery([secret], { body: JSON.stringify({ ...SESSION_ENDED, type: 'person.renamed' }) });
      expect((await route(post(newer))).status).toBe(204);
      expect(calls).toBe(0);
    });

    it('an onEvent that throws leaves the id unremembered: the gateway sending the event again reaches onEvent again', async () => {
      const secret = newSecret();
      let calls = 0;
      const route = routeOf({
        secret,
        now: clock,
        onEvent: () => {
          calls++;
          if (calls === 1) throw new Error('database down');
        },
      });
      const message = delivery([secret]);
      const first = await route(post(message)).catch(() => new Response(null, { status: 500 }));
      expect(first.status).toBe(500);
      expect((await route(post(message))).status).toBe(204);
      expect(calls).toBe(2);
    });
  });
}

/** The client's known reasons are the gateway's, both ways: a reason added on one side fails the typecheck. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sessionReasonsAgree: Same<(typeof SESSION_ENDED_REASONS)[number], GatewaySessionEndedReason> = true;
const admissionReasonsAgree: Same<(typeof ADMISSION_ENDED_REASONS)[number], GatewayAdmissionEndedReason> = true;

describe("verifyEvent and the gateway's own deliveries", () => {
  it("every event body the gateway writes, signed by the gateway's signer with two secrets, verifies with either", async () => {
    expect([sessionReasonsAgree, admissionReasonsAgree]).toEqual([true, true]);
    const [current, previous] = [generateEventsSecret(), generateEventsSecret()];
    const keys = [current, previous].map((secret) => eventsSecretKeyBytes(secret) as Uint8Array<ArrayBuffer>);
    const person = { id: crypto.randomUUID(), githubUserId: '583231', githubLogin: 'octocat' };
    const at = new Date(NOW);
    const bodies = [
      ...SESSION_ENDED_REASONS.map((reason) => sessionEndedBody(person, [crypto.randomUUID()], reason, at)),
      ...ADMISSION_ENDED_REASONS.map((reason) => admissionEndedBody(person, reason, at)),
    ];
    for (const body of bodies) {
      const id = webhookId(crypto.randomUUID());
      const timestamp = Math.floor(NOW / 1000);
      const headers = {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': await webhookSignature({ id, timestamp, body }, keys),
      };
      for (const secret of [current, previous]) {
        expect(await verifyEvent({ headers, body }, secret, fresh())).toEqual({
          ok: true,
          id,
          type: JSON.parse(body).type,
          event: JSON.parse(body),
        });
      }
    }
  });
});
