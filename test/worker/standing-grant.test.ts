import { beforeAll, describe, expect, it } from 'vitest';
import { grantStandingAccess } from '../../src/services/grant-standing-access.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import {
  callService,
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

// The cutover's grant (`gateway services grant-standing-access`, issue 15) as the Worker sees it:
// an old service that fetches tokens by user id gets them for the people it was granted, and the
// person ends that from their landing page like any standing access. Its own database (every
// whitelisted person with a token in it is granted), so the counts are exact.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
});

const tokenService = () =>
  registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify', 'github:token'] });

const grant = (service: RegisteredService) =>
  database.use((db) =>
    grantStandingAccess(db, service.identifier, {
      standingAccessSeconds: 2_592_000,
      dryRun: false,
      origin: TEST_OPERATOR,
    }),
  );

/** The access token `/v1/github-token` hands out, by session or by user id. */
async function tokenOf(service: RegisteredService, body: { session: string } | { user_id: string }): Promise<string> {
  const answer = await callService(database, '/v1/github-token', service.key, body);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { access_token: string }).access_token;
}

describe('a standing-access grant, through the Worker', () => {
  it('the granted service gets the person’s token by user id (the same token), a person signed in after the grant is 403 foreign_user, and "Sign out of <service>" ends it', async () => {
    const old = await tokenService();
    const other = await tokenService();
    // Signed in through another service only: the person's token is stored, nothing with `old`.
    const person = await signedInPerson(database, other, 'granted');
    expect(await tokenByUserId(database, old.key, person.userId)).toBe('foreign_user');

    expect((await grant(old)).people).toBe(1);
    const byUserId = await tokenOf(old, { user_id: person.userId });
    expect(byUserId).toMatch(/^ghu_/);
    expect(byUserId).toBe(await tokenOf(other, { session: person.token }));

    const later = await signedInPerson(database, other, 'later');
    expect(await tokenByUserId(database, old.key, later.userId)).toBe('foreign_user');

    const cookie = await gatewayCookie(database, person.login);
    expect(await landingHtml(database, cookie)).toContain(
      `name="service" value="${old.id}"><button type="submit">Sign out of Test ${old.identifier}<`,
    );
    const out = await postSignOut(database, cookie, { service: old.id });
    expect(out.status).toBe(303);
    expect(await tokenByUserId(database, old.key, person.userId)).toBe('foreign_user');
    // The other service's own session is not touched by signing out of `old`.
    expect(await tokenByUserId(database, other.key, person.userId)).toBe('ok');
    // Signed out stays signed out: a second grant reaches only the person who had no row there yet.
    expect((await grant(old)).people).toBe(1);
    expect(await tokenByUserId(database, old.key, later.userId)).toBe('ok');
    expect(await tokenByUserId(database, old.key, person.userId)).toBe('foreign_user');
  });

  it('"Sign out everywhere" ends a granted service’s access by user id too', async () => {
    const old = await tokenService();
    const other = await tokenService();
    const person = await signedInPerson(database, other, 'everywhere');
    await grant(old);
    expect(await tokenByUserId(database, old.key, person.userId)).toBe('ok');

    const out = await postSignOut(database, await gatewayCookie(database, person.login), { everywhere: '1' });
    expect(out.status).toBe(303);
    expect(await signedOutPageText(database, out)).toContain('Signed out');
    expect(await tokenByUserId(database, old.key, person.userId)).toBe('foreign_user');
  });
});
