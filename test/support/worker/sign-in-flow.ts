import { expect } from 'vitest';
import { pickStandInUser } from '../../../scripts/lib/dev/stand-in-github-picker.ts';
import type { Bindings } from '../../../src/config.ts';
import { SIGN_IN_COOKIE } from '../../../src/sign-in/attempt.ts';
import { PENDING_COOKIE } from '../../../src/sign-in/pending.ts';
import { callWorker } from './call-worker.ts';

/** A cookie jar of one: the value of each cookie a response set, by name. */
export function cookiesOf(response: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const [pair = ''] = header.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return jar;
}

export function setCookieHeader(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((header) => header.startsWith(`${name}=`));
}

export interface StartedSignIn {
  /** The stand-in GitHub authorize URL the gateway redirected to. */
  authorizeUrl: URL;
  /** The sealed sign-in cookie the browser now holds. */
  cookie: string;
}

/** GET /login: the browser is redirected to GitHub and holds the sealed attempt cookie. */
export async function startSignIn(bindings: Bindings, query = ''): Promise<StartedSignIn> {
  const response = await callWorker(bindings, `/login${query}`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  const cookie = cookiesOf(response).get(SIGN_IN_COOKIE);
  expect(cookie).toBeTruthy();
  return { authorizeUrl: new URL(response.headers.get('location') ?? ''), cookie: cookie ?? '' };
}

/** The person picks `login` on the stand-in GitHub's authorize page; returns where GitHub sends them. */
export async function authorizeAtGitHub(authorizeUrl: URL, login: string): Promise<URL> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  await page.text();
  const decision = await pickStandInUser(authorizeUrl, login);
  expect(decision.status).toBe(302);
  return new URL(decision.headers.get('location') ?? '');
}

/** GitHub's redirect arrives at the gateway's callback, with the browser's cookie (if any): its own answer. */
export function callbackAnswer(bindings: Bindings, callbackUrl: URL, cookie: string | null): Promise<Response> {
  const headers: Record<string, string> = cookie === null ? {} : { Cookie: `${SIGN_IN_COOKIE}=${cookie}` };
  return callWorker(bindings, `${callbackUrl.pathname}${callbackUrl.search}`, { headers, redirect: 'manual' });
}

/**
 * The callback as a browser sees it: a person not (yet) admitted is sent on (303) to the pending
 * page, which the browser then shows (with the pending cookie); any other answer as it came.
 */
export async function callback(bindings: Bindings, callbackUrl: URL, cookie: string | null): Promise<Response> {
  const answer = await callbackAnswer(bindings, callbackUrl, cookie);
  if (answer.status !== 303 || answer.headers.get('location') !== '/pending') return answer;
  return pendingPage(bindings, cookiesOf(answer).get(PENDING_COOKIE) ?? '');
}

/** GET /pending with the pending cookie the callback set (a reload of the pending page). */
export function pendingPage(bindings: Bindings, pendingCookie: string): Promise<Response> {
  return callWorker(bindings, '/pending', {
    headers: { Cookie: `${PENDING_COOKIE}=${pendingCookie}` },
    redirect: 'manual',
  });
}

/** The whole browser side: /login, pick `login` at GitHub, the callback. */
export async function signIn(bindings: Bindings, login: string, query = ''): Promise<Response> {
  const started = await startSignIn(bindings, query);
  const callbackUrl = await authorizeAtGitHub(started.authorizeUrl, login);
  return callback(bindings, callbackUrl, started.cookie);
}

export function uniqueLogin(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
