import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry } from '../../drizzle/schema.ts';
import { PENDING_COOKIE } from '../../src/sign-in/pending.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { SERVICE_REDIRECT } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import {
  authorizeAtGitHub,
  callbackAnswer,
  cookiesOf,
  pendingPage,
  startSignIn,
  uniqueLogin,
} from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

/**
 * The return address a sign-in sealed is used again only while the service still takes it, and a
 * sign-in link is refused at /login when its attempt could not travel in a cookie (a browser drops
 * one over 4096 bytes, and the callback would find nothing to trust). A file of its own: its
 * tests change what their services register.
 */
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

const linkTo = (service: RegisteredService, redirectUri = SERVICE_REDIRECT, state = 'st-1') =>
  `?service=${service.identifier}&redirect_uri=${encodeURIComponent(redirectUri)}&state=${encodeURIComponent(state)}`;

function stopTaking(service: RegisteredService) {
  return database.use((db) =>
    db.update(serviceRegistry).set({ redirectUris: [] }).where(eq(serviceRegistry.id, service.id)),
  );
}

describe('a sealed return address, used again later', () => {
  it('the pending page offers no "Back to" link once the service no longer registers the address', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const started = await startSignIn(database.env, linkTo(service));
    const answer = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('pending')),
      started.cookie,
    );
    const pending = cookiesOf(answer).get(PENDING_COOKIE) ?? '';
    expect(await (await pendingPage(database.env, pending)).text()).toContain('Back to');
    await stopTaking(service);
    const page = await pendingPage(database.env, pending);
    expect(page.status).toBe(403);
    expect(await page.text()).not.toContain('Back to');
  });

  it('a failure after the state check stays on the gateway’s page once the service no longer registers the address', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const started = await startSignIn(database.env, linkTo(service));
    await stopTaking(service);
    const cancelled = new URL('https://gateway.test/auth/github/callback?error=access_denied');
    cancelled.searchParams.set('state', started.authorizeUrl.searchParams.get('state') ?? '');
    const answer = await callbackAnswer(database.env, cancelled, started.cookie);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(await answer.text()).toContain('github_denied');
  });
});

describe('a sign-in link the attempt cookie could not carry', () => {
  it('refuses a state that is not printable ASCII (RFC 6749: 1*VSCHAR) with invalid_request', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const response = await callWorker(database.env, `/login${linkTo(service, SERVICE_REDIRECT, 'é'.repeat(10))}`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('invalid_request');
  });

  it('refuses a link too long for the cookie at /login, saying so, instead of a callback that finds no attempt', async () => {
    const long = `https://app.example.com/${'a'.repeat(1900)}`;
    const service = await registerService(database, { redirectUris: [long] });
    const response = await callWorker(database.env, `/login${linkTo(service, long, 'x'.repeat(512))}`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('too long');
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('seals only the link’s checked fields for "Try again": an unknown parameter is not carried along', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT] });
    const started = await startSignIn(database.env, `${linkTo(service)}&padding=${'p'.repeat(3000)}`);
    const answer = await callbackAnswer(
      database.env,
      await authorizeAtGitHub(started.authorizeUrl, uniqueLogin('retry')),
      started.cookie,
    );
    const page = await pendingPage(database.env, cookiesOf(answer).get(PENDING_COOKIE) ?? '');
    const text = await page.text();
    expect(text).toContain(`href="/login${linkTo(service).replaceAll('&', '&amp;')}"`);
    expect(text).not.toContain('padding');
  });
});
