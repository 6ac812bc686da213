import { and, eq, isNull } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../drizzle/schema.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import {
  callService,
  gatewayCookie,
  landingHtml,
  postSignOut,
  SERVICE_REDIRECT,
  signedInPerson,
  signedOutPageText,
  tokenByUserId,
  verifyCode,
} from '../support/worker/people.ts';
import { type RegisteredService, registerService, whitelist } from '../support/worker/services.ts';
import { setCookieHeader, signIn } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Every test here sees changes at once: the staleness bound has its own test (cache.test.ts).
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

const tokenService = () =>
  registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify', 'github:token'] });

/** The person signs in through `service` once more: a second session there, its token. */
async function signInAgainThrough(service: RegisteredService, login: string): Promise<string> {
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
  return ((await exchange.json()) as { session: { token: string } }).session.token;
}

/** An expired, unrevoked session of the person's at `service`, written as an old sign-in left it. */
async function oldExpiredSession(userId: string, service: RegisteredService): Promise<string> {
  const [row] = await database.use((db) =>
    db
      .insert(sessions)
      .values({
        userId,
        serviceId: service.id,
        expiresAt: new Date(Date.now() - 3_600_000),
        createdAt: new Date(Date.now() - 2 * 86_400_000),
      })
      .returning({ id: sessions.id }),
  );
  return row?.id ?? '';
}

async function unrevokedSessions(userId: string): Promise<{ id: string; serviceId: string | null }[]> {
  return database.use((db) =>
    db
      .select({ id: sessions.id, serviceId: sessions.serviceId })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt))),
  );
}

/** The "Sign out of" buttons of a landing page: service id and name, in page order. */
function signOutButtons(landing: string): { serviceId: string; name: string }[] {
  return [
    ...landing.matchAll(/name="service" value="([0-9a-f-]{36})"><button type="submit">Sign out of ([^<]+)</g),
  ].map((match) => ({ serviceId: match[1] ?? '', name: match[2] ?? '' }));
}

describe('the signed-in landing: services with access, and signing out of them', () => {
  it('lists each service once, however many sessions the person has there, live or expired', async () => {
    const [a, b] = [await tokenService(), await tokenService()];
    const person = await signedInPerson(database, a);
    await signInAgainThrough(a, person.login);
    await oldExpiredSession(person.userId, a);
    await signInAgainThrough(b, person.login);
    const buttons = signOutButtons(await landingHtml(database, await gatewayCookie(database, person.login)));
    expect(buttons.sort((x, y) => x.name.localeCompare(y.name))).toEqual(
      [
        { serviceId: a.id, name: `Test ${a.identifier}` },
        { serviceId: b.id, name: `Test ${b.identifier}` },
      ].sort((x, y) => x.name.localeCompare(y.name)),
    );
  });

  it('"Sign out of <service>" revokes every session of the person’s there, live or expired, and no other', async () => {
    const [a, b] = [await tokenService(), await tokenService()];
    const person = await signedInPerson(database, a);
    const secondAtA = await signInAgainThrough(a, person.login);
    const expiredAtA = await oldExpiredSession(person.userId, a);
    const atB = await signInAgainThrough(b, person.login);
    const cookie = await gatewayCookie(database, person.login);

    const out = await postSignOut(database, cookie, { service: a.id });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe(`/?signed_out_of=${a.id}`);
    expect(await verifyCode(database, a.key, person.token)).toBe('revoked_session');
    expect(await verifyCode(database, a.key, secondAtA)).toBe('revoked_session');
    const left = await unrevokedSessions(person.userId);
    expect(left.map((row) => row.id)).not.toContain(expiredAtA);
    expect(left.filter((row) => row.serviceId === a.id)).toEqual([]);
    // The other service and the gateway's own stay.
    expect(await verifyCode(database, b.key, atB)).toBe('ok');
    expect(await tokenByUserId(database, b.key, person.userId)).toBe('ok');
    const after = await landingHtml(database, cookie);
    expect(after).toContain(`You are signed in as <strong>${person.login}</strong>`);
    expect(signOutButtons(after).map((button) => button.serviceId)).toEqual([b.id]);
  });

  it('a service id posted with another person’s cookie, or of a service the person never used, revokes nothing', async () => {
    const [a, unused] = [await tokenService(), await tokenService()];
    const person = await signedInPerson(database, a);
    const stranger = await signedInPerson(database, unused, 'stranger');
    const strangerCookie = await gatewayCookie(database, stranger.login);
    const before = await unrevokedSessions(person.userId);

    expect((await postSignOut(database, strangerCookie, { service: a.id })).status).toBe(303);
    expect((await postSignOut(database, strangerCookie, { service: 'not-a-service-id' })).status).toBe(303);
    expect(await unrevokedSessions(person.userId)).toEqual(before);
    expect(await verifyCode(database, a.key, person.token)).toBe('ok');
    // The stranger's own sessions are untouched too: they never used service a.
    expect(await verifyCode(database, unused.key, stranger.token)).toBe('ok');
    expect(await landingHtml(database, strangerCookie)).toContain(
      `You are signed in as <strong>${stranger.login}</strong>`,
    );
  });

  it('"Sign out everywhere" revokes every session of the person’s, live or expired, at every service and the gateway’s own, and no one else’s', async () => {
    const [a, b] = [await tokenService(), await tokenService()];
    const person = await signedInPerson(database, a);
    await oldExpiredSession(person.userId, a);
    const atB = await signInAgainThrough(b, person.login);
    const stranger = await signedInPerson(database, a, 'stranger');
    const cookie = await gatewayCookie(database, person.login);

    const everywhere = await postSignOut(database, cookie, { everywhere: '1' });
    expect(everywhere.status).toBe(303);
    expect(await signedOutPageText(database, everywhere)).toContain('signed out of the gateway and of 2 services.');
    expect(setCookieHeader(everywhere, SESSION_COOKIE)).toMatch(/Max-Age=0/);
    expect(await unrevokedSessions(person.userId)).toEqual([]);
    expect(await verifyCode(database, b.key, atB)).toBe('revoked_session');
    expect(await landingHtml(database, cookie)).toContain('Sign in with GitHub');
    expect(await verifyCode(database, a.key, stranger.token)).toBe('ok');
  });

  it.each([
    ['"Sign out everywhere"', (_serviceId: string) => ({ everywhere: '1' })],
    ['"Sign out of <service>"', (serviceId: string) => ({ service: serviceId })],
  ])('a login code issued before %s cannot be exchanged after it: no new session, no token', async (_label, form) => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    // The person signs in through the service again; the code is on its way, not yet exchanged.
    const back = await signIn(
      database.env,
      person.login,
      `?service=${a.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`,
    );
    const code = new URL(back.headers.get('location') ?? '').searchParams.get('code');
    const cookie = await gatewayCookie(database, person.login);
    await postSignOut(database, cookie, form(a.id));

    const exchange = await callService(database, '/v1/sessions/exchange', a.key, {
      code,
      redirect_uri: SERVICE_REDIRECT,
    });
    expect(exchange.status).toBe(400);
    expect(((await exchange.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
    const atService = (await unrevokedSessions(person.userId)).filter(({ serviceId }) => serviceId === a.id);
    expect(atService).toEqual([]);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
  });

  it('a service’s session token in the gateway cookie is not the gateway’s session: signing out revokes nothing', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const planted = `${SESSION_COOKIE}=${person.token}`;
    expect((await postSignOut(database, planted, { everywhere: '1' })).status).toBe(303);
    expect((await postSignOut(database, planted, { service: a.id })).status).toBe(303);
    expect(await verifyCode(database, a.key, person.token)).toBe('ok');
  });
});

describe('signing out while not whitelisted', () => {
  it('the plain sign-out still revokes the cookie’s own session', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const cookie = await gatewayCookie(database, person.login);
    await whitelist(database, person.login, false);
    expect((await postSignOut(database, cookie, {})).status).toBe(303);
    await whitelist(database, person.login, true);
    expect(await landingHtml(database, cookie)).toContain('Sign in with GitHub');
    // The plain sign-out leaves services alone.
    expect(await verifyCode(database, a.key, person.token)).toBe('ok');
  });

  it('un-whitelist, sign out everywhere, re-whitelist: the old gateway cookie, the service session and token access by user id stay ended', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const cookie = await gatewayCookie(database, person.login);
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('ok');

    await whitelist(database, person.login, false);
    const everywhere = await postSignOut(database, cookie, { everywhere: '1' });
    expect(everywhere.status).toBe(303);
    expect(await signedOutPageText(database, everywhere)).toContain('signed out of the gateway and of 1 service.');
    await whitelist(database, person.login, true);

    expect(await landingHtml(database, cookie)).toContain('Sign in with GitHub');
    expect(await verifyCode(database, a.key, person.token)).toBe('revoked_session');
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
  });

  it('"Sign out of <service>" works too, and the landing itself stays closed to them', async () => {
    const a = await tokenService();
    const person = await signedInPerson(database, a);
    const cookie = await gatewayCookie(database, person.login);
    await whitelist(database, person.login, false);
    expect(await landingHtml(database, cookie)).toContain('Sign in with GitHub');
    expect((await postSignOut(database, cookie, { service: a.id })).status).toBe(303);
    await whitelist(database, person.login, true);
    expect(await verifyCode(database, a.key, person.token)).toBe('revoked_session');
    expect(await tokenByUserId(database, a.key, person.userId)).toBe('foreign_user');
  });
});
