import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../drizzle/schema.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { FreshTokenError, freshGitHubAccessToken } from '../../src/users/fresh-github-token.ts';
import { loadGitHubTokens } from '../../src/users/stored-github-tokens.ts';
import { OTHER_STAND_IN_APPS } from '../support/stand-in-client.ts';
import { signIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

const github = () => ({
  clientId: env.GITHUB_CLIENT_ID,
  clientSecret: env.GITHUB_CLIENT_SECRET,
  oauthUrl: env.GITHUB_OAUTH_URL,
  apiUrl: env.GITHUB_API_URL,
});

async function standInStats(login: string) {
  const response = await fetch(`${env.GITHUB_OAUTH_URL}/_stand-in/stats?login=${login}`);
  return (await response.json()) as { refreshes: number };
}

/** A signed-in person whose access token has expired, so the next use must refresh it. */
async function personWithExpiredToken(): Promise<{ login: string; id: string }> {
  const login = uniqueLogin('refresh');
  await signIn(database.env, login);
  const handle = database.open();
  try {
    const [row] = await handle.db
      .update(users)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(eq(users.githubLogin, login))
      .returning({ id: users.id });
    return { login, id: row?.id ?? '' };
  } finally {
    await handle.end();
  }
}

describe('a GitHub token about to expire', () => {
  it('is refreshed exactly once when 20 requests need it at the same time, and all of them get the new token', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const person = await personWithExpiredToken();
    const handles = Array.from({ length: 20 }, () => database.open());
    try {
      const results = await Promise.all(
        handles.map((handle) => freshGitHubAccessToken({ db: handle.db, keyring, github: github() }, person.id)),
      );
      expect((await standInStats(person.login)).refreshes).toBe(1);
      expect(results.filter((result) => result.refreshed)).toHaveLength(1);
      expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
      const stored = await loadGitHubTokens(handles[0]?.db as never, keyring, person.id);
      expect(stored?.accessToken).toBe(results[0]?.accessToken);
      expect(stored?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 7 * 3600 * 1000);
    } finally {
      await Promise.all(handles.map((handle) => handle.end()));
    }
  });

  it('is handed out as it is while it is still fresh', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const login = uniqueLogin('fresh');
    await signIn(database.env, login);
    const handle = database.open();
    try {
      const [row] = await handle.db.select({ id: users.id }).from(users).where(eq(users.githubLogin, login));
      const result = await freshGitHubAccessToken({ db: handle.db, keyring, github: github() }, row?.id ?? '');
      expect(result.refreshed).toBe(false);
      expect((await standInStats(login)).refreshes).toBe(0);
    } finally {
      await handle.end();
    }
  });

  it('keeps the old refresh token when the refresh answer carries no new one (RFC 6749 §6), and it refreshes again', async () => {
    const app = OTHER_STAND_IN_APPS.keepsRefreshTokens;
    const bindings = { ...database.env, GITHUB_CLIENT_ID: app.clientId, GITHUB_CLIENT_SECRET: app.clientSecret };
    const keepsRefresh = { ...github(), clientId: app.clientId, clientSecret: app.clientSecret };
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const login = uniqueLogin('keeprefresh');
    await signIn(bindings, login);
    const handle = database.open();
    try {
      const expire = () =>
        handle.db
          .update(users)
          .set({ expiresAt: new Date(Date.now() - 60_000) })
          .where(eq(users.githubLogin, login))
          .returning({ id: users.id });
      const [row] = await expire();
      const id = row?.id ?? '';
      const original = await loadGitHubTokens(handle.db, keyring, id);
      expect(original?.refreshToken).toMatch(/^ghr_/);

      const first = await freshGitHubAccessToken({ db: handle.db, keyring, github: keepsRefresh }, id);
      expect(first.refreshed).toBe(true);
      const stored = await loadGitHubTokens(handle.db, keyring, id);
      expect(stored?.accessToken).toBe(first.accessToken);
      expect(stored?.refreshToken).toBe(original?.refreshToken);

      await expire();
      const second = await freshGitHubAccessToken({ db: handle.db, keyring, github: keepsRefresh }, id);
      expect(second.refreshed).toBe(true);
      expect(second.accessToken).not.toBe(first.accessToken);
      expect((await standInStats(login)).refreshes).toBe(2);
    } finally {
      await handle.end();
    }
  });

  it('fails clearly when GitHub refuses the refresh token (it was already used)', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const person = await personWithExpiredToken();
    const handle = database.open();
    try {
      const [before] = await handle.db.select().from(users).where(eq(users.id, person.id));
      await freshGitHubAccessToken({ db: handle.db, keyring, github: github() }, person.id);
      // Put the old, now used, refresh token back and expire the token again.
      await handle.db
        .update(users)
        .set({ refreshToken: before?.refreshToken ?? null, expiresAt: new Date(Date.now() - 1000) })
        .where(eq(users.id, person.id));
      const error = await freshGitHubAccessToken({ db: handle.db, keyring, github: github() }, person.id).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(FreshTokenError);
      expect((error as FreshTokenError).code).toBe('refresh_failed');
      expect((error as FreshTokenError).message).toContain('bad_refresh_token');
    } finally {
      await handle.end();
    }
  });
});
