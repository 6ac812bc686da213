import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecords, serviceEventAttempts, serviceEvents, serviceRegistry } from '../../drizzle/schema.ts';
import { openEventsSecret } from '../../src/crypto/events-secret.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { callAdmin } from '../support/worker/call-worker.ts';
import { registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let admin: Awaited<ReturnType<typeof registerService>>;
beforeAll(async () => {
  database = await createTestDatabase();
  // Many admin calls from one key: the per-key rate limit is not what this file checks.
  const { SERVICE_RATE_LIMIT: _limit, ...unlimited } = database.env;
  database.env = unlimited;
  admin = await registerService(database, { scopes: ['admin'] });
});

const adminCall = (method: string, path: string, body?: unknown) =>
  callAdmin(database.env, admin.key, method, path, body);

const URL_OF = (id: string) => `https://${id}.example.com/gateway/events`;
const SECRET = /whsec_[A-Za-z0-9+/]+={0,2}/;

async function setEvents(id: string, url = URL_OF(id)) {
  const set = await adminCall('PUT', `/v1/admin/services/${id}/events`, { url });
  expect(set.status).toBe(200);
  return (await set.json()) as {
    events: { url: string; failing_since: string | null; undelivered: number };
    secret: string | null;
  };
}

const storedRow = (id: string) =>
  database.use(async (db) => {
    const [row] = await db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, id));
    if (!row) throw new Error(`no service ${id}`);
    return row;
  });

/** Every change record, audit entry and listing, as text: where a secret must never appear. */
async function everythingShown(id: string): Promise<string> {
  const records = await database.use((db) => db.select().from(changeRecords));
  const audit = await (await adminCall('GET', '/v1/admin/audit?limit=500')).text();
  const list = await (await adminCall('GET', '/v1/admin/services')).text();
  const deliveries = await (await adminCall('GET', `/v1/admin/services/${id}/events/deliveries`)).text();
  return JSON.stringify(records) + audit + list + deliveries;
}

describe('the admin API: a service events URL and secret', () => {
  it('PUT events sets the URL and shows a whsec_ secret once, sealed for that service row only', async () => {
    const service = await registerService(database, { identifier: 'ev-set' });
    const other = await registerService(database, { identifier: 'ev-other' });
    const set = await setEvents('ev-set');
    expect(set.events).toEqual({ url: URL_OF('ev-set'), failing_since: null, undelivered: 0 });
    expect(set.secret).toMatch(new RegExp(`^${SECRET.source}$`));
    const row = await storedRow('ev-set');
    expect(row.eventsSecret).not.toContain('whsec_');
    const keyring = await loadTokenKeyring(database.env.TOKEN_ENCRYPTION_KEY ?? '');
    expect((await openEventsSecret(row.eventsSecret ?? '', keyring, service.id)).plaintext).toBe(set.secret);
    await expect(openEventsSecret(row.eventsSecret ?? '', keyring, other.id)).rejects.toThrow();

    const again = await setEvents('ev-set', 'https://moved.example.com/events');
    expect(again.secret).toBeNull();
    expect(again.events.url).toBe('https://moved.example.com/events');
    expect((await storedRow('ev-set')).eventsSecret).toBe(row.eventsSecret);
    expect(await everythingShown('ev-set')).not.toContain(set.secret ?? 'whsec_');
  });

  it('GET services lists each service with events {url, failing_since, undelivered} or null', async () => {
    await registerService(database, { identifier: 'ev-listed' });
    await registerService(database, { identifier: 'ev-unlisted' });
    await setEvents('ev-listed');
    const listed = (await (await adminCall('GET', '/v1/admin/services')).json()) as {
      services: { id: string; events: unknown }[];
    };
    const byId = new Map(listed.services.map((s) => [s.id, s.events]));
    expect(byId.get('ev-listed')).toEqual({ url: URL_OF('ev-listed'), failing_since: null, undelivered: 0 });
    expect(byId.get('ev-unlisted')).toBeNull();
  });

  it('PUT events refuses a URL the rule refuses with 400 invalid_service and a message saying why', async () => {
    await registerService(database, { identifier: 'ev-bad' });
    for (const [url, words] of [
      ['http://billing.example.com/events', 'must use https'],
      ['https://user:pw@billing.example.com/events', 'user name or password'],
      ['https://billing.example.com/events#frag', 'fragment'],
      ['not a url', 'not an absolute URL'],
      [`https://billing.example.com/${'a'.repeat(2100)}`, 'at most 2048'],
      ['ftp://billing.example.com/events', 'must use https'],
    ] as const) {
      const refused = await adminCall('PUT', '/v1/admin/services/ev-bad/events', { url });
      expect([url.slice(0, 40), refused.status]).toEqual([url.slice(0, 40), 400]);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_service');
      expect(body.error.message).toContain(words);
    }
    for (const url of ['http://localhost:8788/events', 'http://127.0.0.1/events', 'http://[::1]:9/e']) {
      expect((await adminCall('PUT', '/v1/admin/services/ev-bad/events', { url })).status).toBe(200);
    }
  });

  it('every events route answers 404 unknown_service for an unknown or a deleted service', async () => {
    await registerService(database, { identifier: 'ev-deleted' });
    expect((await adminCall('DELETE', '/v1/admin/services/ev-deleted')).status).toBe(200);
    for (const id of ['ev-nobody', 'ev-deleted']) {
      for (const [method, path, body] of [
        ['PUT', `/v1/admin/services/${id}/events`, { url: URL_OF(id) }],
        ['DELETE', `/v1/admin/services/${id}/events`, undefined],
        ['POST', `/v1/admin/services/${id}/events/rotate-secret`, {}],
        ['GET', `/v1/admin/services/${id}/events/deliveries`, undefined],
      ] as const) {
        const refused = await adminCall(method, path, body);
        expect([method, path, refused.status]).toEqual([method, path, 404]);
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unknown_service');
      }
    }
  });

  it('deleting a service drops its events URL and both secrets and gives up its undelivered events', async () => {
    const service = await registerService(database, { identifier: 'ev-gone' });
    await setEvents('ev-gone');
    expect((await adminCall('POST', '/v1/admin/services/ev-gone/events/rotate-secret', {})).status).toBe(200);
    await database.use((db) =>
      db.insert(serviceEvents).values({
        serviceId: service.id,
        type: 'session.ended',
        body: '{}',
        nextAttemptAt: new Date(),
      }),
    );
    expect((await adminCall('DELETE', '/v1/admin/services/ev-gone')).status).toBe(200);
    const row = await storedRow('ev-gone');
    expect([row.eventsUrl, row.eventsSecret, row.eventsPreviousSecret, row.eventsPreviousSecretExpiresAt]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    const events = await database.use((db) =>
      db.select().from(serviceEvents).where(eq(serviceEvents.serviceId, service.id)),
    );
    expect(events.map((event) => event.givenUpAt)).toEqual([expect.any(Date)]);
  });

  it('rotate-secret: a new secret, the old one kept for the grace period; again during it is 409 unless force', async () => {
    const service = await registerService(database, { identifier: 'ev-rotate' });
    const first = (await setEvents('ev-rotate')).secret;
    const firstStored = (await storedRow('ev-rotate')).eventsSecret;
    const rotated = await adminCall('POST', '/v1/admin/services/ev-rotate/events/rotate-secret', {
      grace_seconds: 3600,
    });
    expect(rotated.status).toBe(200);
    const body = (await rotated.json()) as { secret: string; previous_secret_expires_at: string };
    expect(body.secret).toMatch(SECRET);
    expect(body.secret).not.toBe(first);
    expect(Date.parse(body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(3500_000);
    const row = await storedRow('ev-rotate');
    expect(row.eventsPreviousSecret).toBe(firstStored);
    const keyring = await loadTokenKeyring(database.env.TOKEN_ENCRYPTION_KEY ?? '');
    expect((await openEventsSecret(row.eventsSecret ?? '', keyring, service.id)).plaintext).toBe(body.secret);

    const refused = await adminCall('POST', '/v1/admin/services/ev-rotate/events/rotate-secret', {});
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      error: { code: 'rotation_in_progress', message: expect.stringContaining('"force": true') },
    });
    const forced = await adminCall('POST', '/v1/admin/services/ev-rotate/events/rotate-secret', {
      grace_seconds: 0,
      force: true,
    });
    expect(forced.status).toBe(200);
    expect(await forced.json()).toMatchObject({ previous_secret_expires_at: null });
    const after = await storedRow('ev-rotate');
    expect(after.eventsPreviousSecret).toBeNull();
    expect(after.eventsPreviousSecretExpiresAt).toBeNull();
    const shown = await everythingShown('ev-rotate');
    for (const secret of [first, body.secret]) expect(shown).not.toContain(secret);
    const records = await database.use((db) =>
      db.select().from(changeRecords).where(eq(changeRecords.subjectServiceId, service.id)),
    );
    expect(records.map((r) => r.action)).toEqual(
      expect.arrayContaining(['services:events-set', 'services:events-rotate-secret']),
    );
  });

  it('rotate-secret refuses a grace period out of bounds, and a service with no events URL, with 400', async () => {
    await registerService(database, { identifier: 'ev-no-url' });
    const none = await adminCall('POST', '/v1/admin/services/ev-no-url/events/rotate-secret', {});
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({
      error: { code: 'invalid_service', message: expect.stringContaining('no events URL') },
    });
    await setEvents('ev-no-url');
    for (const grace_seconds of [-1, 2_592_001, 1.5, '60']) {
      const refused = await adminCall('POST', '/v1/admin/services/ev-no-url/events/rotate-secret', { grace_seconds });
      expect([grace_seconds, refused.status]).toEqual([grace_seconds, 400]);
    }
  });

  it('DELETE events drops the URL and secrets and gives up the undelivered events, kept in the deliveries', async () => {
    const service = await registerService(database, { identifier: 'ev-clear' });
    await setEvents('ev-clear');
    await database.use((db) =>
      db.insert(serviceEvents).values([
        { serviceId: service.id, type: 'session.ended', body: '{}', nextAttemptAt: new Date() },
        {
          serviceId: service.id,
          type: 'session.ended',
          body: '{}',
          nextAttemptAt: new Date(),
          deliveredAt: new Date(),
          attempts: 1,
        },
      ]),
    );
    const listed = (await (await adminCall('GET', '/v1/admin/services')).json()) as {
      services: { id: string; events: { undelivered: number } | null }[];
    };
    expect(listed.services.find((s) => s.id === 'ev-clear')?.events?.undelivered).toBe(1);
    const cleared = await adminCall('DELETE', '/v1/admin/services/ev-clear/events');
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toEqual({ events: null, given_up: 1 });
    const row = await storedRow('ev-clear');
    expect([row.eventsUrl, row.eventsSecret, row.eventsPreviousSecret, row.eventsFailingSince]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    const page = (await (await adminCall('GET', '/v1/admin/services/ev-clear/events/deliveries')).json()) as {
      deliveries: { given_up_at: string | null; delivered_at: string | null; next_attempt_at: string | null }[];
    };
    expect(page.deliveries).toHaveLength(2);
    for (const delivery of page.deliveries) {
      expect(delivery.given_up_at !== null || delivery.delivered_at !== null).toBe(true);
      expect(delivery.next_attempt_at).toBeNull();
    }
    // A later set makes a new secret, shown once again.
    expect((await setEvents('ev-clear')).secret).toMatch(SECRET);
  });

  it('GET deliveries pages newest first with the last attempt of each, the cursor continuing, a bad cursor 400', async () => {
    const service = await registerService(database, { identifier: 'ev-pages' });
    await setEvents('ev-pages');
    const base = Date.parse('2026-12-01T09:00:00.000Z');
    const ids = await database.use(async (db) => {
      const rows = await db
        .insert(serviceEvents)
        .values(
          Array.from({ length: 5 }, (_, i) => ({
            serviceId: service.id,
            type: i % 2 ? 'admission.ended' : 'session.ended',
            body: '{}',
            // Two share a millisecond: the id orders them, and the cursor must not skip either.
            createdAt: new Date(base + Math.min(i, 3) * 1000),
            nextAttemptAt: new Date(base + 60_000),
            attempts: i === 0 ? 2 : 0,
          })),
        )
        .returning({ id: serviceEvents.id });
      const first = rows[0]?.id ?? '';
      await db.insert(serviceEventAttempts).values([
        { eventId: first, attemptedAt: new Date(base + 5000), status: 503, error: 'status 503', durationMs: 12 },
        { eventId: first, attemptedAt: new Date(base + 10_000), status: null, error: 'timeout', durationMs: 10_000 },
      ]);
      return rows.map((row) => row.id);
    });
    const seen: { id: string; created_at: string; last_attempt: unknown; attempts: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await adminCall(
        'GET',
        `/v1/admin/services/ev-pages/events/deliveries?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(response.status).toBe(200);
      const page = (await response.json()) as { deliveries: typeof seen; next_cursor: string | null };
      expect(page.deliveries.length).toBeLessThanOrEqual(2);
      seen.push(...page.deliveries);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.map((d) => d.id).sort()).toEqual(ids.map((id) => `msg_${id.replaceAll('-', '')}`).sort());
    expect(seen.map((d) => d.created_at)).toEqual([...seen.map((d) => d.created_at)].sort().reverse());
    const oldest = seen.at(-1);
    expect(oldest).toMatchObject({
      id: `msg_${ids[0]?.replaceAll('-', '')}`,
      attempts: 2,
      last_attempt: { at: new Date(base + 10_000).toISOString(), status: null, error: 'timeout', duration_ms: 10_000 },
    });
    expect(seen[0]?.last_attempt).toBeNull();
    for (const query of ['cursor=nonsense', 'limit=0', 'limit=501', 'limit=abc']) {
      const refused = await adminCall('GET', `/v1/admin/services/ev-pages/events/deliveries?${query}`);
      expect([query, refused.status]).toEqual([query, 400]);
    }
  });

  it('the change records of set, rotate and clear name the URL and grace period, never a secret', async () => {
    const service = await registerService(database, { identifier: 'ev-records' });
    const secret = (await setEvents('ev-records')).secret ?? '';
    await adminCall('POST', '/v1/admin/services/ev-records/events/rotate-secret', { grace_seconds: 0 });
    await adminCall('DELETE', '/v1/admin/services/ev-records/events');
    const records = await database.use((db) =>
      db.select().from(changeRecords).where(eq(changeRecords.subjectServiceId, service.id)),
    );
    const byAction = new Map(records.map((r) => [r.action, r.details]));
    expect(byAction.get('services:events-set')).toMatchObject({ url: URL_OF('ev-records'), secret_made: true });
    expect(byAction.get('services:events-rotate-secret')).toMatchObject({ grace_seconds: 0, force: false });
    expect(byAction.get('services:events-clear')).toMatchObject({ url: URL_OF('ev-records'), given_up: 0 });
    expect(JSON.stringify(records)).not.toContain('whsec_');
    expect(JSON.stringify(records)).not.toContain(secret.slice(6));
  });
});
