import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { asc, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  membershipChecks,
  serviceEventAttempts,
  serviceEvents,
  serviceRegistry,
  sessions,
  users,
} from '../../drizzle/schema.ts';
import { standInControl } from '../../scripts/lib/dev/stand-in-github-control.ts';
import { allowByRule } from '../../src/admission/manage-rules.ts';
import { generateEventsSecret, sealEventsSecret } from '../../src/crypto/events-secret.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { insertRule } from '../../src/db/admission-rules.ts';
import { insertEvents } from '../../src/db/service-events.ts';
import { runPooled } from '../../src/events/pool.ts';
import type { EventsQueueMessage } from '../../src/events/start-delivery.ts';
import worker from '../../src/index.ts';
import { signPersonOutEverywhere, signPersonOutOfService } from '../../src/sign-in/sign-out.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { callAdmin } from '../support/worker/call-worker.ts';
import { type EventsReceiver, newEventsReceiver } from '../support/worker/events-receiver.ts';
import { callService, gatewayCookie, postSignOut, SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * Events pushed to services (docs/api.md, "Events pushed to your service"), delivered to real
 * receivers on loopback (test/support/events-receiver.ts). Without EVENTS_QUEUE the first attempt
 * runs right after the response (callWorker waits for it); later ones are driven by the scheduled
 * sweep with a chosen scheduledTime, never by waiting. Signatures are checked with the
 * `standardwebhooks` package, the reference implementation.
 */
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

interface EventsService extends RegisteredService {
  secret: string;
  receiver: EventsReceiver;
}

/** A service with an events URL (its own receiver) and secret, set in the database as `events set` would. */
async function serviceWithEvents(scopes = ['users:verify']): Promise<EventsService> {
  const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes });
  const receiver = await newEventsReceiver();
  const secret = generateEventsSecret();
  const keyring = await loadTokenKeyring(database.env.TOKEN_ENCRYPTION_KEY ?? '', '');
  const sealed = await sealEventsSecret(secret, keyring, service.id);
  await database.use((db) =>
    db
      .update(serviceRegistry)
      .set({ eventsUrl: receiver.url, eventsSecret: sealed })
      .where(eq(serviceRegistry.id, service.id)),
  );
  return { ...service, secret, receiver };
}

/** The person (whitelisted) signs in through the service: the session token and its id. */
async function signInThrough(service: RegisteredService, login: string) {
  const back = await signIn(
    database.env,
    login,
    `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
  );
  const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
  const exchange = await callService(database, '/v1/sessions/exchange', service.key, {
    code,
    redirect_uri: SERVICE_REDIRECT,
  });
  expect(exchange.status).toBe(200);
  const body = (await exchange.json()) as { session: { token: string }; user: { id: string; github_id: string } };
  const token = body.session.token;
  return {
    token,
    sessionId: token.slice('gws_'.length, token.indexOf('.')),
    userId: body.user.id,
    githubId: body.user.github_id,
  };
}

/** A new whitelisted person (signed in once on the gateway itself). */
async function newPerson(prefix: string): Promise<string> {
  const login = uniqueLogin(prefix);
  await signIn(database.env, login);
  await whitelist(database, login);
  return login;
}

function eventsOf(serviceId: string) {
  return database.use((db) =>
    db.select().from(serviceEvents).where(eq(serviceEvents.serviceId, serviceId)).orderBy(asc(serviceEvents.createdAt)),
  );
}

function attemptsOf(eventId: string) {
  return database.use((db) =>
    db
      .select()
      .from(serviceEventAttempts)
      .where(eq(serviceEventAttempts.eventId, eventId))
      .orderBy(asc(serviceEventAttempts.attemptedAt)),
  );
}

function failingSince(serviceId: string) {
  return database.use(
    async (db) =>
      (
        await db
          .select({ at: serviceRegistry.eventsFailingSince })
          .from(serviceRegistry)
          .where(eq(serviceRegistry.id, serviceId))
      )[0]?.at ?? null,
  );
}

/** Events written straight to the outbox for the service, due at `dueAt` (the sweep's to send). */
function outboxEvents(serviceId: string, dueAt: Date, count = 1): Promise<string[]> {
  return database.use((db) =>
    insertEvents(
      db,
      Array.from({ length: count }, () => ({
        serviceId,
        type: 'session.ended',
        body: JSON.stringify({ type: 'session.ended', timestamp: dueAt.toISOString(), data: {} }),
        createdAt: dueAt,
      })),
    ),
  );
}

/** Gives up every pending event of the service, so later sweeps of this file leave it alone. */
function giveUpAll(serviceId: string) {
  return database.use((db) =>
    db.update(serviceEvents).set({ givenUpAt: new Date() }).where(eq(serviceEvents.serviceId, serviceId)),
  );
}

/** A queue binding that keeps what it is sent (the events queue as the sweep sees it). */
function recordingQueue(): { queue: Queue; sent: string[] } {
  const sent: string[] = [];
  const keep = (body: unknown) => void sent.push((body as EventsQueueMessage).eventId);
  const queue = {
    send: async (body: unknown) => keep(body),
    sendBatch: async (messages: Iterable<{ body: unknown }>) => {
      for (const message of messages) keep(message.body);
    },
  } as unknown as Queue;
  return { queue, sent };
}

/** How many requests these receivers have got so far, together. */
async function receivedBy(services: EventsService[]): Promise<number> {
  const counts = await Promise.all(services.map(async (service) => (await service.receiver.received()).length));
  return counts.reduce((sum, count) => sum + count, 0);
}

/** Runs the Worker's scheduled handler (the events sweep) as if at `at`. */
async function sweepAt(at: Date, bindings = database.env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: '* * * * *' }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}

/** The one request a receiver got, checked with the reference verifier: its parsed body. */
async function onlyDelivery(service: EventsService): Promise<{ headers: Record<string, string>; body: string }> {
  const received = await service.receiver.received();
  expect(received).toHaveLength(1);
  const [delivery] = received;
  if (!delivery) throw new Error('no delivery');
  expect(delivery.headers['content-type']).toBe('application/json');
  expect(delivery.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
  expect(() => new Webhook(service.secret).verify(delivery.body, delivery.headers)).not.toThrow();
  return delivery;
}

/**
 * A person's session with a service receiving events, made to have expired at `expiredAt`, and the
 * bindings with an hour of standing access: what the sweep's standing_access_expired looks at.
 */
async function sessionThatExpired(prefix: string, expiredAt: Date) {
  const billing = await serviceWithEvents();
  const login = await newPerson(prefix);
  const session = await signInThrough(billing, login);
  await database.use((db) =>
    db.update(sessions).set({ expiresAt: expiredAt }).where(eq(sessions.id, session.sessionId)),
  );
  return { billing, login, session, bindings: { ...database.env, STANDING_ACCESS_SECONDS: '3600' } };
}

const person = (login: string, ids: { userId: string; githubId: string }) => ({
  id: ids.userId,
  github_id: ids.githubId,
  login,
});

describe('session.ended', () => {
  it('signed_out: signing out of one service on the landing sends that service its sessions, signed, and no other service anything', async () => {
    const [billing, wiki] = [await serviceWithEvents(), await serviceWithEvents()];
    const login = await newPerson('leaver');
    const first = await signInThrough(billing, login);
    const second = await signInThrough(billing, login);
    await signInThrough(wiki, login);
    const cookie = await gatewayCookie(database, login);

    const signedOut = await postSignOut(database, cookie, { service: billing.id });
    expect(signedOut.status).toBe(303);

    const delivery = await onlyDelivery(billing);
    const [event] = await eventsOf(billing.id);
    expect(delivery.headers['webhook-id']).toBe(`msg_${event?.id.replaceAll('-', '')}`);
    const sent = JSON.parse(delivery.body) as { timestamp: string; data: { session_ids: string[] } };
    expect(delivery.body).toBe(
      JSON.stringify({
        type: 'session.ended',
        timestamp: sent.timestamp,
        data: { user: person(login, first), session_ids: sent.data.session_ids, reason: 'signed_out' },
      }),
    );
    expect(sent.data.session_ids.sort()).toEqual([first.sessionId, second.sessionId].sort());
    expect(sent.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(await wiki.receiver.received()).toEqual([]);
    expect(await eventsOf(wiki.id)).toEqual([]);
    expect(event).toMatchObject({ type: 'session.ended', attempts: 1, givenUpAt: null });
    expect(event?.deliveredAt).not.toBeNull();
    expect(await attemptsOf(event?.id ?? '')).toEqual([
      expect.objectContaining({ status: 204, error: null, durationMs: expect.any(Number) }),
    ]);
  });

  it('signed_out_everywhere: each service with an events URL gets its own sessions; one without a URL gets no event and none is kept', async () => {
    const [billing, wiki] = [await serviceWithEvents(), await serviceWithEvents()];
    const quiet = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const login = await newPerson('everywhere');
    const atBilling = await signInThrough(billing, login);
    const atWiki = await signInThrough(wiki, login);
    await signInThrough(quiet, login);
    const cookie = await gatewayCookie(database, login);

    expect((await postSignOut(database, cookie, { everywhere: '1' })).status).toBe(303);

    for (const [service, session] of [
      [billing, atBilling],
      [wiki, atWiki],
    ] as const) {
      const delivery = await onlyDelivery(service);
      expect(JSON.parse(delivery.body)).toEqual({
        type: 'session.ended',
        timestamp: expect.any(String),
        data: { user: person(login, session), session_ids: [session.sessionId], reason: 'signed_out_everywhere' },
      });
    }
    expect(await eventsOf(quiet.id)).toEqual([]);
  });

  it('revoked: a service revoking a session gets session.ended for it; the other services get nothing', async () => {
    const [billing, wiki] = [await serviceWithEvents(), await serviceWithEvents()];
    const login = await newPerson('revoked');
    const session = await signInThrough(billing, login);
    await signInThrough(wiki, login);

    const revoke = await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });
    expect(await revoke.json()).toEqual({ revoked: true });

    const delivery = await onlyDelivery(billing);
    expect(JSON.parse(delivery.body)).toEqual({
      type: 'session.ended',
      timestamp: expect.any(String),
      data: { user: person(login, session), session_ids: [session.sessionId], reason: 'revoked' },
    });
    expect(await wiki.receiver.received()).toEqual([]);
    // Revoking it again ends nothing: no second event.
    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });
    expect(await eventsOf(billing.id)).toHaveLength(1);
  });

  it('signed_out_by_operator: an operator signing a person out of one service, or everywhere, says so', async () => {
    const [billing, wiki] = [await serviceWithEvents(), await serviceWithEvents()];
    const login = await newPerson('operated');
    const atBilling = await signInThrough(billing, login);
    const atWiki = await signInThrough(wiki, login);
    const written: string[] = [];
    const deps = (db: Parameters<Parameters<typeof database.use>[0]>[0]) => ({
      db,
      standingAccessSeconds: 3600,
      origin: () => TEST_OPERATOR,
      deliver: (ids: string[]) => void written.push(...ids),
      endedBy: 'operator' as const,
    });
    await database.use((db) => signPersonOutOfService(deps(db), atBilling.userId, billing.id));
    await database.use((db) => signPersonOutEverywhere(deps(db), atBilling.userId));
    expect(written).toHaveLength(2);
    // Delivered by the sweep: what the console's after-response delivery would have sent.
    await sweepAt(new Date());
    for (const [service, session] of [
      [billing, atBilling],
      [wiki, atWiki],
    ] as const) {
      const delivery = await onlyDelivery(service);
      expect(JSON.parse(delivery.body).data).toEqual({
        user: person(login, session),
        session_ids: [session.sessionId],
        reason: 'signed_out_by_operator',
      });
    }
  });

  it('standing_access_expired: two sweeps after the standing access ran out write one event, sent once with the time it ended', async () => {
    // The session ended an hour and a half ago; standing access is 1 hour here.
    const expiredAt = new Date(Date.now() - 90 * 60_000);
    const { billing, login, session, bindings } = await sessionThatExpired('standing', expiredAt);
    const endedAt = new Date(expiredAt.getTime() + 3_600_000);

    await sweepAt(new Date(endedAt.getTime() - 30_000), bindings);
    expect(await eventsOf(billing.id)).toEqual([]);
    await sweepAt(new Date(endedAt.getTime() + 30_000), bindings);
    await sweepAt(new Date(endedAt.getTime() + 90_000), bindings);

    const events = await eventsOf(billing.id);
    expect(events).toHaveLength(1);
    const received = await billing.receiver.received();
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe(
      JSON.stringify({
        type: 'session.ended',
        timestamp: endedAt.toISOString(),
        data: { user: person(login, session), session_ids: [session.sessionId], reason: 'standing_access_expired' },
      }),
    );
  });
  it('code_reused: a login code presented a second time by its service ends the session of its first use, and the service gets session.ended for it', async () => {
    const billing = await serviceWithEvents();
    const login = await newPerson('reused');
    const back = await signIn(
      database.env,
      login,
      `?service=${billing.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
    const exchange = () =>
      callService(database, '/v1/sessions/exchange', billing.key, { code, redirect_uri: SERVICE_REDIRECT });
    const first = (await (await exchange()).json()) as {
      session: { token: string };
      user: { id: string; github_id: string };
    };
    const sessionId = first.session.token.slice('gws_'.length, first.session.token.indexOf('.'));

    expect((await exchange()).status).toBe(400);

    const delivery = await onlyDelivery(billing);
    expect(JSON.parse(delivery.body)).toEqual({
      type: 'session.ended',
      timestamp: expect.any(String),
      data: {
        user: { id: first.user.id, github_id: first.user.github_id, login },
        session_ids: [sessionId],
        reason: 'code_reused',
      },
    });
  });

  it('standing_access_expired: a sweep after an outage of two hours still sends the event for standing access that ran out while it was down', async () => {
    // Standing access (1 hour here) ran out two hours ago, and no sweep has run since.
    const expiredAt = new Date(Date.now() - 3 * 3_600_000);
    const { billing, login, session, bindings } = await sessionThatExpired('outage', expiredAt);

    await sweepAt(new Date(), bindings);

    const delivery = await onlyDelivery(billing);
    expect(JSON.parse(delivery.body)).toEqual({
      type: 'session.ended',
      timestamp: new Date(expiredAt.getTime() + 3_600_000).toISOString(),
      data: { user: person(login, session), session_ids: [session.sessionId], reason: 'standing_access_expired' },
    });
  });
});

describe('admission.ended', () => {
  it('not_whitelisted: un-whitelisting someone nothing else admits sends every service they signed in through the event', async () => {
    const [billing, wiki] = [await serviceWithEvents(), await serviceWithEvents()];
    const bystander = await serviceWithEvents();
    const admin = await registerService(database, { scopes: ['admin'] });
    const login = await newPerson('unlisted');
    const session = await signInThrough(billing, login);
    await signInThrough(wiki, login);

    const answer = await callAdmin(database.env, admin.key, 'POST', '/v1/admin/users/whitelist', {
      login,
      allowed: false,
    });
    expect(answer.status).toBe(200);

    for (const service of [billing, wiki]) {
      const delivery = await onlyDelivery(service);
      expect(JSON.parse(delivery.body)).toEqual({
        type: 'admission.ended',
        timestamp: expect.any(String),
        data: { user: person(login, session), reason: 'not_whitelisted' },
      });
    }
    expect(await bystander.receiver.received()).toEqual([]);
  });

  it('not_whitelisted is not sent when a login rule still admits the person', async () => {
    const billing = await serviceWithEvents();
    const admin = await registerService(database, { scopes: ['admin'] });
    const login = await newPerson('ruled');
    const session = await signInThrough(billing, login);
    await database.use((db) =>
      insertRule(db, {
        kind: 'login',
        target: `login:${session.githubId}`,
        githubUserId: session.githubId,
        githubLogin: login,
        orgLogin: null,
        orgId: null,
        teamSlug: null,
        createdBy: 'test',
      }),
    );

    await callAdmin(database.env, admin.key, 'POST', '/v1/admin/users/whitelist', { login, allowed: false });

    expect(await eventsOf(billing.id)).toEqual([]);
    expect(await billing.receiver.received()).toEqual([]);
  });
  it('not_a_member: a membership re-check after a verify that finds them gone from the admitting org sends the event', async () => {
    const billing = await serviceWithEvents();
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    const control = standInControl(database.env.GITHUB_API_URL ?? '');
    await control.setMembership({ org, login });
    const github = { apiUrl: database.env.GITHUB_API_URL ?? '', oauthUrl: database.env.GITHUB_OAUTH_URL ?? '' };
    await database.use((db) => allowByRule({ db, github }, { kind: 'org', org }, TEST_OPERATOR));
    const session = await signInThrough(billing, login);
    await control.removeMembership({ org, login });
    // The last check is older than the fresh bound (10 minutes): the next verify re-checks after its answer.
    const old = new Date(Date.now() - 11 * 60_000);
    await database.use((db) =>
      db
        .update(membershipChecks)
        .set({ checkedAt: old, attemptedAt: old })
        .where(eq(membershipChecks.userId, session.userId)),
    );

    await callService(database, '/v1/verify', billing.key, { session: session.token });

    const delivery = await onlyDelivery(billing);
    expect(JSON.parse(delivery.body)).toEqual({
      type: 'admission.ended',
      timestamp: expect.any(String),
      data: { user: person(login, session), reason: 'not_a_member' },
    });
  });
  it("membership_unverified: a re-check that finds the person's own GitHub token no longer works, while an org admitted them, sends the event", async () => {
    const billing = await serviceWithEvents();
    const [org, login] = [uniqueLogin('org'), uniqueLogin('member')];
    const control = standInControl(database.env.GITHUB_API_URL ?? '');
    await control.setMembership({ org, login });
    const github = { apiUrl: database.env.GITHUB_API_URL ?? '', oauthUrl: database.env.GITHUB_OAUTH_URL ?? '' };
    await database.use((db) => allowByRule({ db, github }, { kind: 'org', org }, TEST_OPERATOR));
    const session = await signInThrough(billing, login);
    // The token expired and its refresh token is gone (revoked): nothing can confirm the membership now.
    const old = new Date(Date.now() - 11 * 60_000);
    await database.use(async (db) => {
      await db
        .update(users)
        .set({ expiresAt: new Date(Date.now() - 60_000), refreshToken: null })
        .where(eq(users.id, session.userId));
      await db
        .update(membershipChecks)
        .set({ checkedAt: old, attemptedAt: old })
        .where(eq(membershipChecks.userId, session.userId));
    });

    await callService(database, '/v1/verify', billing.key, { session: session.token });

    const delivery = await onlyDelivery(billing);
    expect(JSON.parse(delivery.body)).toEqual({
      type: 'admission.ended',
      timestamp: expect.any(String),
      data: { user: person(login, session), reason: 'membership_unverified' },
    });
  });
});

describe('delivery', () => {
  it('a receiver that is down gets the event on the next due attempt once it is back; the attempts are kept and failing_since is set, then cleared', async () => {
    const billing = await serviceWithEvents();
    const login = await newPerson('down');
    const session = await signInThrough(billing, login);
    await billing.receiver.close();

    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });
    const [event] = await eventsOf(billing.id);
    if (!event) throw new Error('no event');
    expect(event).toMatchObject({ attempts: 1, deliveredAt: null, givenUpAt: null });
    const [failed] = await attemptsOf(event.id);
    expect(failed).toMatchObject({ status: null, error: 'connection_failed' });
    // Due again 5 seconds after the failed attempt.
    expect(event.nextAttemptAt.getTime() - (failed?.attemptedAt.getTime() ?? 0)).toBe(5_000);
    expect(await failingSince(billing.id)).toEqual(failed?.attemptedAt);

    // Still down at the first sweep: a second failure, due 5 minutes later; failing_since stays the first.
    const firstSweep = new Date(event.nextAttemptAt.getTime() + 1_000);
    await sweepAt(firstSweep);
    const [afterSecond] = await eventsOf(billing.id);
    expect(afterSecond).toMatchObject({ attempts: 2, deliveredAt: null });
    const second = (await attemptsOf(event.id))[1];
    expect((afterSecond?.nextAttemptAt.getTime() ?? 0) - (second?.attemptedAt.getTime() ?? 0)).toBe(5 * 60_000);
    expect(await failingSince(billing.id)).toEqual(failed?.attemptedAt);

    await billing.receiver.open();
    // Not due yet: the sweep leaves it alone.
    await sweepAt(new Date(firstSweep.getTime() + 60_000));
    expect(await billing.receiver.received()).toEqual([]);
    await sweepAt(new Date(firstSweep.getTime() + 5 * 60_000 + 1_000));

    const received = await billing.receiver.received();
    expect(received).toHaveLength(1);
    const [delivered] = await eventsOf(billing.id);
    expect(delivered).toMatchObject({ attempts: 3 });
    expect(delivered?.deliveredAt).not.toBeNull();
    expect((await attemptsOf(event.id)).map((attempt) => [attempt.status, attempt.error])).toEqual([
      [null, 'connection_failed'],
      [null, 'connection_failed'],
      [204, null],
    ]);
    expect(await failingSince(billing.id)).toBeNull();
    // The same webhook-id on every attempt, signed at the attempt's time (the clock's, not the sweep's).
    expect(received[0]?.headers['webhook-id']).toBe(`msg_${event.id.replaceAll('-', '')}`);
    const third = (await attemptsOf(event.id))[2];
    expect(received[0]?.headers['webhook-timestamp']).toBe(
      String(Math.floor((third?.attemptedAt.getTime() ?? 0) / 1000)),
    );
    const at = new Date(Number(received[0]?.headers['webhook-timestamp']) * 1000);
    expect(received[0]?.headers['webhook-signature']).toBe(
      new Webhook(billing.secret).sign(received[0]?.headers['webhook-id'] ?? '', at, received[0]?.body ?? ''),
    );
  });

  it('gives an event up after the 8th failed attempt, on the documented schedule, each attempt kept with its status', async () => {
    const billing = await serviceWithEvents();
    await billing.receiver.answer({ status: 500 });
    const login = await newPerson('giveup');
    const session = await signInThrough(billing, login);
    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });

    const gaps: number[] = [];
    for (let attempt = 2; attempt <= 8; attempt += 1) {
      const [event] = await eventsOf(billing.id);
      const attempts = await attemptsOf(event?.id ?? '');
      gaps.push((event?.nextAttemptAt.getTime() ?? 0) - (attempts.at(-1)?.attemptedAt.getTime() ?? 0));
      await sweepAt(new Date((event?.nextAttemptAt.getTime() ?? 0) + 1_000));
    }
    expect(gaps).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);

    const [event] = await eventsOf(billing.id);
    expect(event).toMatchObject({ attempts: 8, deliveredAt: null });
    expect(event?.givenUpAt).not.toBeNull();
    const attempts = await attemptsOf(event?.id ?? '');
    expect(attempts.map((attempt) => [attempt.status, attempt.error])).toEqual(
      Array.from({ length: 8 }, () => [500, 'status 500']),
    );
    // Given up: a later sweep sends nothing more.
    await sweepAt(new Date((event?.givenUpAt?.getTime() ?? 0) + 86_400_000));
    expect(await billing.receiver.received()).toHaveLength(8);
  });

  it('counts a redirect as a failed attempt and never follows it', async () => {
    const billing = await serviceWithEvents();
    const elsewhere = await newEventsReceiver();
    await billing.receiver.answer({ status: 307, location: elsewhere.url });
    const login = await newPerson('redirect');
    const session = await signInThrough(billing, login);
    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });

    const [event] = await eventsOf(billing.id);
    expect(event).toMatchObject({ attempts: 1, deliveredAt: null });
    expect(await attemptsOf(event?.id ?? '')).toEqual([
      expect.objectContaining({ status: 307, error: 'redirect 307 (not followed)' }),
    ]);
    expect(await elsewhere.received()).toEqual([]);
    expect(await failingSince(billing.id)).not.toBeNull();
  });

  it('answers the sign-out (303) while the receiver holds the delivery without answering', async () => {
    const billing = await serviceWithEvents();
    await billing.receiver.answer({ status: 204, hang: true });
    const login = await newPerson('hung');
    await signInThrough(billing, login);
    const cookie = await gatewayCookie(database, login);

    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request('https://gateway.test/logout', {
        method: 'POST',
        headers: {
          Cookie: cookie,
          'Sec-Fetch-Site': 'same-origin',
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'everywhere=1',
        redirect: 'manual',
      }),
      database.env,
      ctx,
    );
    expect(response.status).toBe(303);
    // The answer came back; the delivery is still being held by the receiver.
    await vi.waitFor(async () => expect(await billing.receiver.received()).toHaveLength(1), { timeout: 5_000 });
    const [event] = await eventsOf(billing.id);
    expect(event?.deliveredAt).toBeNull();
    await billing.receiver.release();
    await waitOnExecutionContext(ctx);
    expect((await eventsOf(billing.id))[0]?.deliveredAt).not.toBeNull();
  });

  it('signs with both secrets during a rotation grace period, the new one first', async () => {
    const billing = await serviceWithEvents();
    const previous = generateEventsSecret();
    const keyring = await loadTokenKeyring(database.env.TOKEN_ENCRYPTION_KEY ?? '', '');
    await database.use(async (db) =>
      db
        .update(serviceRegistry)
        .set({
          eventsPreviousSecret: await sealEventsSecret(previous, keyring, billing.id),
          eventsPreviousSecretExpiresAt: new Date(Date.now() + 3_600_000),
        })
        .where(eq(serviceRegistry.id, billing.id)),
    );
    const login = await newPerson('rotated');
    const session = await signInThrough(billing, login);
    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });

    const [delivery] = await billing.receiver.received();
    if (!delivery) throw new Error('no delivery');
    const at = new Date(Number(delivery.headers['webhook-timestamp']) * 1000);
    const id = delivery.headers['webhook-id'] ?? '';
    expect(delivery.headers['webhook-signature']).toBe(
      `${new Webhook(billing.secret).sign(id, at, delivery.body)} ${new Webhook(previous).sign(id, at, delivery.body)}`,
    );
    expect(() => new Webhook(previous).verify(delivery.body, delivery.headers)).not.toThrow();
    expect(() => new Webhook(billing.secret).verify(delivery.body, delivery.headers)).not.toThrow();
  });

  it('an events secret the keyring cannot open is a failed attempt (secret_unreadable) on the schedule, sets failing_since, and warns with the service id', async () => {
    const billing = await serviceWithEvents();
    const keyring = await loadTokenKeyring(database.env.TOKEN_ENCRYPTION_KEY ?? '', '');
    // Sealed for another row: it does not open for this service (as after a key change).
    const foreign = await sealEventsSecret(generateEventsSecret(), keyring, crypto.randomUUID());
    await database.use((db) =>
      db.update(serviceRegistry).set({ eventsSecret: foreign }).where(eq(serviceRegistry.id, billing.id)),
    );
    const login = await newPerson('unreadable');
    const session = await signInThrough(billing, login);
    const warnings: string[] = [];
    const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
    });
    try {
      await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });
    } finally {
      spy.mockRestore();
    }

    const [event] = await eventsOf(billing.id);
    expect(event).toMatchObject({ attempts: 1, deliveredAt: null, givenUpAt: null });
    const [attempt] = await attemptsOf(event?.id ?? '');
    expect(attempt).toMatchObject({ status: null, error: 'secret_unreadable' });
    expect((event?.nextAttemptAt.getTime() ?? 0) - (attempt?.attemptedAt.getTime() ?? 0)).toBe(5_000);
    expect(await failingSince(billing.id)).toEqual(attempt?.attemptedAt);
    const warned = warnings.filter((line) => line.includes('events.secret_unreadable'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain(billing.id);
    expect(warned[0]).not.toContain(foreign);
    expect(await billing.receiver.received()).toEqual([]);
  });

  it("one service's backlog of overdue events does not stop a sweep from sending another service's", async () => {
    const [crowded, other] = [await serviceWithEvents(), await serviceWithEvents()];
    // More than a sweep attempts, all older than the other service's event.
    await outboxEvents(crowded.id, new Date(Date.now() - 3_600_000), 60);
    await outboxEvents(other.id, new Date(Date.now() - 1_000));
    try {
      await sweepAt(new Date());
      expect(await other.receiver.received()).toHaveLength(1);
      expect((await crowded.receiver.received()).length).toBeLessThan(60);
    } finally {
      await giveUpAll(crowded.id);
    }
  });

  it('a sweep keeps at most 5 deliveries in flight: the others wait their turn, and are sent once one ends', async () => {
    const services = await Promise.all(Array.from({ length: 7 }, () => serviceWithEvents()));
    for (const service of services) {
      await service.receiver.answer({ status: 204, hang: true });
      await outboxEvents(service.id, new Date(Date.now() - 1_000));
    }
    const sweep = sweepAt(new Date());
    await vi.waitFor(async () => expect(await receivedBy(services)).toBeGreaterThanOrEqual(5), { timeout: 5_000 });
    expect(await receivedBy(services)).toBe(5);
    for (const service of services) {
      await service.receiver.answer({ status: 204 });
      await service.receiver.release();
    }
    await sweep;
    expect(await receivedBy(services)).toBe(7);
    for (const service of services) expect((await eventsOf(service.id))[0]?.deliveredAt).not.toBeNull();
  });

  it('runs pooled work at most the limit at once, each item exactly once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await runPooled(
      Array.from({ length: 12 }, (_, index) => index),
      5,
      async (item) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running -= 1;
        done.push(item);
      },
    );
    expect(most).toBe(5);
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, index) => index));
  });

  it('a late sweep signs with the clock at the POST, not with its scheduled time', async () => {
    const billing = await serviceWithEvents();
    await outboxEvents(billing.id, new Date(Date.now() - 20 * 60_000));
    // The cron ran ten minutes late: its scheduled time is ten minutes ago.
    await sweepAt(new Date(Date.now() - 10 * 60_000));

    const delivery = await onlyDelivery(billing);
    expect(Math.abs(Number(delivery.headers['webhook-timestamp']) * 1000 - Date.now())).toBeLessThan(60_000);
    const [event] = await eventsOf(billing.id);
    const [attempt] = await attemptsOf(event?.id ?? '');
    expect(Math.abs((attempt?.attemptedAt.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('with EVENTS_QUEUE bound, a sweep sends the overdue events to the queue and posts none itself', async () => {
    const billing = await serviceWithEvents();
    const [eventId] = await outboxEvents(billing.id, new Date(Date.now() - 5 * 60_000));
    const { queue, sent } = recordingQueue();

    await sweepAt(new Date(), { ...database.env, EVENTS_QUEUE: queue });

    expect(sent).toContain(eventId);
    expect(await billing.receiver.received()).toEqual([]);
    await giveUpAll(billing.id);
  });

  it('logs events.service_failing (warn, with the service id and failing_since) at each sweep once a service has failed for over an hour', async () => {
    const billing = await serviceWithEvents();
    await billing.receiver.answer({ status: 503 });
    const login = await newPerson('failing');
    const session = await signInThrough(billing, login);
    await callService(database, '/v1/sessions/revoke', billing.key, { session: session.token });
    const since = await failingSince(billing.id);
    if (!since) throw new Error('not failing');

    const warnings: string[] = [];
    const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
    });
    try {
      await sweepAt(new Date(since.getTime() + 59 * 60_000));
      expect(reportsOf(billing.id, warnings)).toEqual([]);
      await sweepAt(new Date(since.getTime() + 61 * 60_000));
    } finally {
      spy.mockRestore();
    }
    // Other services of this file that fail still (those given up) are reported too: only this one's here.
    const reports = reportsOf(billing.id, warnings);
    expect(reports).toHaveLength(1);
    expect(JSON.parse(reports[0] ?? '{}')).toMatchObject({ level: 'warn' });
    expect(reports[0]).toContain(billing.id);
    expect(reports[0]).toContain(since.toISOString());
  });
});

function reportsOf(serviceId: string, lines: string[]): string[] {
  return lines.filter((line) => line.includes('events.service_failing') && line.includes(serviceId));
}

describe('the events queue consumer', () => {
  async function pendingEvent(answer: number): Promise<{ service: EventsService; eventId: string }> {
    const service = await serviceWithEvents();
    await service.receiver.close();
    const login = await newPerson('queued');
    const session = await signInThrough(service, login);
    await callService(database, '/v1/sessions/revoke', service.key, { session: session.token });
    await service.receiver.open();
    await service.receiver.answer({ status: answer });
    const [event] = await eventsOf(service.id);
    // Due now, as a queue message sent after a commit finds it.
    await database.use((db) =>
      db
        .update(serviceEvents)
        .set({ nextAttemptAt: new Date(Date.now() - 1_000) })
        .where(eq(serviceEvents.id, event?.id ?? '')),
    );
    return { service, eventId: event?.id ?? '' };
  }

  function batchOf(eventIds: string[]) {
    return createMessageBatch<EventsQueueMessage>(
      'gateway-events',
      eventIds.map((eventId, index) => ({ id: `m${index}`, timestamp: new Date(), attempts: 1, body: { eventId } })),
    );
  }

  it('acks a delivered event, and retries a failed one with the delay until its next scheduled attempt', async () => {
    const good = await pendingEvent(200);
    const bad = await pendingEvent(500);
    const batch = batchOf([good.eventId, bad.eventId]);
    const retry = vi.spyOn(batch.messages[1] as Message<EventsQueueMessage>, 'retry');
    const ctx = createExecutionContext();
    await worker.queue(batch, database.env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(result.retryMessages).toEqual([{ msgId: 'm1' }]);
    // The second failed attempt of `bad`: due again 5 minutes later, and the queue brings it back then.
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 300 });
    expect(await good.service.receiver.received()).toHaveLength(1);
    expect((await eventsOf(good.service.id))[0]?.deliveredAt).not.toBeNull();
    expect((await eventsOf(bad.service.id))[0]).toMatchObject({ attempts: 2, deliveredAt: null });
  });

  it('acks a message whose event is delivered already (a redelivery sends nothing), and retries one it could not attempt (database down)', async () => {
    const good = await pendingEvent(200);
    const first = batchOf([good.eventId]);
    await worker.queue(first, database.env, createExecutionContext());
    const again = batchOf([good.eventId]);
    const ctx = createExecutionContext();
    await worker.queue(again, database.env, ctx);
    expect((await getQueueResult(again, ctx)).explicitAcks).toEqual(['m0']);
    expect(await good.service.receiver.received()).toHaveLength(1);

    const down = new URL(database.url);
    down.port = '1';
    const other = await pendingEvent(200);
    const stuck = batchOf([other.eventId]);
    const retry = vi.spyOn(stuck.messages[0] as Message<EventsQueueMessage>, 'retry');
    const ctx2 = createExecutionContext();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    await worker.queue(stuck, { ...database.env, DATABASE_URL: down.toString() }, ctx2);
    expect((await getQueueResult(stuck, ctx2)).retryMessages).toEqual([{ msgId: 'm0' }]);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 10 });
    vi.restoreAllMocks();
    expect(await other.service.receiver.received()).toEqual([]);
  });

  it('attempts at most 5 messages of a batch at once; the others are sent once one ends', async () => {
    const services = await Promise.all(Array.from({ length: 7 }, () => serviceWithEvents()));
    const ids: string[] = [];
    for (const service of services) {
      await service.receiver.answer({ status: 204, hang: true });
      ids.push(...(await outboxEvents(service.id, new Date(Date.now() - 1_000))));
    }
    const batch = batchOf(ids);
    const consumed = worker.queue(batch, database.env, createExecutionContext());
    await vi.waitFor(async () => expect(await receivedBy(services)).toBeGreaterThanOrEqual(5), { timeout: 5_000 });
    expect(await receivedBy(services)).toBe(5);
    for (const service of services) {
      await service.receiver.answer({ status: 204 });
      await service.receiver.release();
    }
    await consumed;
    expect(await receivedBy(services)).toBe(7);
  });
});
