import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../drizzle/schema.ts';
import { isEncryptedToken, loadTokenKeyring, TokenCipherError } from '../../src/crypto/token-cipher.ts';
import { loadGitHubTokens, storeGitHubTokens } from '../../src/users/stored-github-tokens.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

const withDb: TestDatabase['use'] = (work) => database.use(work);

async function newUser(tokens: { accessToken?: string | null; refreshToken?: string | null } = {}) {
  return withDb(async (db) => {
    const [row] = await db
      .insert(users)
      .values({ githubUserId: String(Math.floor(Math.random() * 1e9)), ...tokens })
      .returning({ id: users.id });
    return row?.id ?? '';
  });
}

const stored = (id: string) => withDb(async (db) => (await db.select().from(users).where(eq(users.id, id)))[0]);

describe("users' GitHub tokens", () => {
  it('are written encrypted and read back decrypted, with their expiry', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const id = await newUser();
    const expiresAt = new Date('2026-12-01T08:00:00.000Z');
    await withDb((db) =>
      storeGitHubTokens(db, keyring, id, { accessToken: 'ghu_access', refreshToken: 'ghr_refresh', expiresAt }),
    );

    const row = await stored(id);
    expect(isEncryptedToken(row?.accessToken ?? '')).toBe(true);
    expect(isEncryptedToken(row?.refreshToken ?? '')).toBe(true);
    expect(row?.accessToken).not.toContain('ghu_access');

    const loaded = await withDb((db) => loadGitHubTokens(db, keyring, id));
    expect(loaded).toEqual({
      accessToken: 'ghu_access',
      refreshToken: 'ghr_refresh',
      expiresAt,
      legacyPlaintext: false,
      underPreviousKey: false,
    });
  });

  it('keep nulls as nulls', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const id = await newUser();
    await withDb((db) =>
      storeGitHubTokens(db, keyring, id, { accessToken: 'gho_only', refreshToken: null, expiresAt: null }),
    );
    expect((await stored(id))?.refreshToken).toBeNull();
    expect(await withDb((db) => loadGitHubTokens(db, keyring, id))).toMatchObject({
      accessToken: 'gho_only',
      refreshToken: null,
    });
  });

  it('read a plaintext token the old system left, and encrypt it on the next write', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const id = await newUser({ accessToken: 'gho_from_the_old_system', refreshToken: null });
    const loaded = await withDb((db) => loadGitHubTokens(db, keyring, id));
    expect(loaded).toMatchObject({ accessToken: 'gho_from_the_old_system', legacyPlaintext: true });

    await withDb((db) =>
      storeGitHubTokens(db, keyring, id, {
        accessToken: loaded?.accessToken ?? null,
        refreshToken: null,
        expiresAt: null,
      }),
    );
    expect(isEncryptedToken((await stored(id))?.accessToken ?? '')).toBe(true);
    expect(await withDb((db) => loadGitHubTokens(db, keyring, id))).toMatchObject({
      accessToken: 'gho_from_the_old_system',
      legacyPlaintext: false,
    });
  });

  it('refuse a damaged encrypted value instead of passing it through', async () => {
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const id = await newUser({ accessToken: 'abcd:not:really:encrypted' });
    const error = await withDb((db) => loadGitHubTokens(db, keyring, id)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenCipherError);
    expect((error as TokenCipherError).code).toBe('malformed_token');
  });
});
