import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry, sessions, users } from '../../drizzle/schema.ts';
import { serviceKeyId } from '../../src/crypto/service-keys.ts';
import { loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { DEFAULT_GRACE_SECONDS, rotateServiceKey } from '../../src/services/admin.ts';
import { SESSION_COOKIE } from '../../src/sign-in/browser-session.ts';
import { loadGitHubTokens } from '../../src/users/stored-github-tokens.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { registerService, whitelist } from '../support/worker/services.ts';
import { authorizeAtGitHub, callback, cookiesOf, startSignIn, uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  // Every call in this file, the sign-in that mints the session included, runs with the isolate
  // caches off: a key verified once (by any call, whatever its bindings) would otherwise be
  // trusted from memory and the rotation never seen. The per-service rate limiter goes too: its
  // test limit (40 a minute) is below the 50 calls made here, and it is not what is tested.
  const { SERVICE_RATE_LIMIT: _limiter, ...bindings } = database.env;
  database.env = { ...bindings, VERIFY_CACHE_SECONDS: '0' };
});

type VerifyBody = { valid: boolean; code: string; user: { id: string } | null };

async function verify(key: string, session: string): Promise<{ status: number; body: VerifyBody }> {
  const response = await callWorker(database.env, '/v1/verify', {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ session }),
  });
  return { status: response.status, body: (await response.json()) as VerifyBody };
}

describe('concurrency', () => {
  it('50 parallel verifies during a key rotation', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const person = await signedInPerson(database, service, 'rotation');

    // Half the calls are under way when the operator rotates the key; the other half start only
    // once the rotation is committed, so their lookups find the key they present as the previous
    // one and are answered through its grace period.
    const duringRotation = Array.from({ length: 25 }, () => verify(service.key, person.token));
    const rotated = await database.use((db) =>
      rotateServiceKey(db, service.identifier, undefined, undefined, { origin: TEST_OPERATOR }),
    );
    const afterRotation = Array.from({ length: 25 }, () => verify(service.key, person.token));
    const answers = await Promise.all([...duringRotation, ...afterRotation]);

    expect(answers).toHaveLength(50);
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 200, body: { valid: true, code: 'ok', user: { id: person.userId } } });
    }
    expect(rotated.key).not.toBe(service.key);
    expect(rotated.previousKeyExpiresAt?.getTime()).toBeGreaterThan(Date.now() + (DEFAULT_GRACE_SECONDS - 60) * 1000);
    const [row] = await database.use((db) =>
      db
        .select({ keyId: serviceRegistry.keyId, previousKeyId: serviceRegistry.previousKeyId })
        .from(serviceRegistry)
        .where(eq(serviceRegistry.id, service.id)),
    );
    // The rotation really happened underneath the calls: the presented key is now the previous one.
    expect(row).toEqual({ keyId: serviceKeyId(rotated.key), previousKeyId: serviceKeyId(service.key) });

    expect(await verify(rotated.key, person.token)).toMatchObject({ status: 200, body: { valid: true, code: 'ok' } });
  });

  it('concurrent sign-ins for the same GitHub user make one user row', async () => {
    const login = uniqueLogin('racer');
    const signInsInParallel = async (count: number) => {
      const started = await Promise.all(Array.from({ length: count }, () => startSignIn(database.env)));
      // Each attempt gets its own code from the stand-in GitHub; only the callbacks race.
      const callbackUrls = await Promise.all(started.map((attempt) => authorizeAtGitHub(attempt.authorizeUrl, login)));
      return Promise.all(
        started.map((attempt, index) => callback(database.env, callbackUrls[index] as URL, attempt.cookie)),
      );
    };
    const rowsFor = () => database.use((db) => db.select().from(users).where(eq(users.githubLogin, login)));

    // A new person: every callback creates-or-finds the row at the same moment.
    const first = await signInsInParallel(8);
    for (const response of first) {
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('Access pending');
    }
    const stats = (await (await fetch(`${env.GITHUB_OAUTH_URL}/_stand-in/stats?login=${login}`)).json()) as {
      codeExchanges: number;
      profileReads: number;
    };
    // All eight got as far as the user row: each exchanged its code and read the profile.
    expect(stats).toMatchObject({ codeExchanges: 8, profileReads: 8 });
    const rows = await rowsFor();
    expect(rows).toHaveLength(1);
    const userId = rows[0]?.id ?? '';

    // Whichever callback wrote last, its tokens were sealed for this row's id (part of their
    // encryption context), so they decrypt, and the access token is one GitHub accepts for them.
    const stored = await database.use(async (db) =>
      loadGitHubTokens(db, await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY), userId),
    );
    expect(stored?.refreshToken).toMatch(/^ghr_/);
    const profile = await fetch(`${env.GITHUB_API_URL}/user`, {
      headers: { Authorization: `Bearer ${stored?.accessToken}` },
    });
    expect(profile.status).toBe(200);
    expect(((await profile.json()) as { login: string }).login).toBe(login);

    // Once allowed in, eight parallel sign-ins find that one row and each gets its own session.
    await whitelist(database, login);
    const second = await signInsInParallel(8);
    const sessionCookies = new Set<string>();
    for (const response of second) {
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/');
      sessionCookies.add(cookiesOf(response).get(SESSION_COOKIE) ?? '');
    }
    expect(sessionCookies.size).toBe(8);
    expect((await rowsFor()).map((row) => row.id)).toEqual([userId]);
    const userSessions = await database.use((db) =>
      db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, userId)),
    );
    expect(userSessions).toHaveLength(8);
  });

  it('one login code exchanged 8 times at once: at most one session, and none left live', async () => {
    const service = await registerService(database, { redirectUris: [SERVICE_REDIRECT], scopes: ['users:verify'] });
    const login = uniqueLogin('double');
    const query = `?service=${service.identifier}&redirect_uri=${encodeURIComponent(SERVICE_REDIRECT)}`;
    const signIn = async () => {
      const started = await startSignIn(database.env, query);
      return callback(database.env, await authorizeAtGitHub(started.authorizeUrl, login), started.cookie);
    };
    await signIn();
    await whitelist(database, login);
    const code = new URL((await signIn()).headers.get('location') ?? '').searchParams.get('code');
    expect(code).toBeTruthy();

    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        callWorker(database.env, '/v1/sessions/exchange', {
          method: 'POST',
          headers: { Authorization: `Bearer ${service.key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ code, redirect_uri: SERVICE_REDIRECT }),
        }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    // The code is used once; every other use is a replay, which also ends what the first one got.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(
      statuses.length - statuses.filter((s) => s === 200).length,
    );
    for (const answer of answers.filter((candidate) => candidate.status === 400)) {
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('invalid_code');
    }
    const [person] = await database.use((db) => db.select().from(users).where(eq(users.githubLogin, login)));
    const live = await database.use((db) =>
      db
        .select()
        .from(sessions)
        .where(eq(sessions.userId, person?.id ?? '')),
    );
    // One session id was reserved with the code: its first use and the replays all name that one.
    expect(live.length).toBeLessThanOrEqual(1);
    expect(live.filter((session) => session.revokedAt === null)).toEqual([]);
  });
});
