import { and, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../drizzle/schema.ts';
import {
  gatewayCookie,
  landingHtml,
  postSignOut,
  SERVICE_REDIRECT,
  signedInPerson,
  signedOutPageText,
  tokenByUserId,
} from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Every test here sees changes at once: the staleness bound has its own test (cache.test.ts).
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const tokenService = () =>
  registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify', 'github:token'] });

/** Moves the expiry of every session the person holds at `service` to `agoMs` before now. */
async function expireSessions(userId: string, service: RegisteredService, agoMs: number): Promise<void> {
  await database.use((db) =>
    db
      .update(sessions)
      .set({ expiresAt: new Date(Date.now() - agoMs) })
      .where(and(eq(sessions.userId, userId), eq(sessions.serviceId, service.id))),
  );
}

async function unrevokedAt(userId: string, service: RegisteredService): Promise<number> {
  const rows = await database.use((db) =>
    db
      .select({ revokedAt: sessions.revokedAt })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), eq(sessions.serviceId, service.id))),
  );
  return rows.filter((row) => row.revokedAt === null).length;
}

describe('standing access: github-token by user id after the session expired', () => {
  it('the issue’s reproduction: the landing lists the service whose session expired, and "Sign out everywhere" ends its token access by user id (403 foreign_user)', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('ok');
    await expireSessions(person.userId, a, 60_000);
    // Expired a minute ago: well inside STANDING_ACCESS_SECONDS (30 days by default).
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('ok');

    const cookie = await gatewayCookie(database, person.login);
    const landing = await landingHtml(database, cookie);
    expect(landing).toContain(`name="service" value="${a.id}"><button type="submit">Sign out of Test ${a.identifier}<`);

    const everywhere = await postSignOut(database, cookie, { everywhere: '1' });
    expect(everywhere.status).toBe(303);
    expect(await signedOutPageText(database, everywhere)).toContain('signed out of the gateway and of 1 service.');
    expect(await unrevokedAt(person.userId, a)).toBe(0);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
  });

  it('"Sign out of <service>" ends token access by user id for a session that has expired', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    await expireSessions(person.userId, a, HOUR_MS);
    const cookie = await gatewayCookie(database, person.login);

    const out = await postSignOut(database, cookie, { service: a.id });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe(`/?signed_out_of=${a.id}`);
    expect(await unrevokedAt(person.userId, a)).toBe(0);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
    expect(await landingHtml(database, cookie)).not.toContain(`Sign out of Test ${a.identifier}`);
  });

  it('ends on its own once the latest session expired longer ago than STANDING_ACCESS_SECONDS (30 days by default): 403 foreign_user with no sign-out', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    await expireSessions(person.userId, a, 29 * DAY_MS);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('ok');
    await expireSessions(person.userId, a, 31 * DAY_MS);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
    // Nothing left to end, so nothing to list.
    const landing = await landingHtml(database, await gatewayCookie(database, person.login));
    expect(landing).not.toContain(`Sign out of Test ${a.identifier}`);
  });

  it('follows STANDING_ACCESS_SECONDS: an hour allows a session expired 30 minutes ago, not one expired 2 hours ago', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const hourly = { ...database, env: { ...database.env, STANDING_ACCESS_SECONDS: '3600' } };
    await expireSessions(person.userId, a, HOUR_MS / 2);
    expect(await tokenByUserId(hourly, a.key, person.userId)).toBe('ok');
    await expireSessions(person.userId, a, 2 * HOUR_MS);
    expect(await tokenByUserId(hourly, a.key, person.userId)).toBe('foreign_user');
  });

  it('with STANDING_ACCESS_SECONDS=0, ends when the session expires', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const none = { ...database, env: { ...database.env, STANDING_ACCESS_SECONDS: '0' } };
    expect(await tokenByUserId(none, a.key, person.userId)).toBe('ok');
    await expireSessions(person.userId, a, 1000);
    expect(await tokenByUserId(none, a.key, person.userId)).toBe('foreign_user');
  });
});
