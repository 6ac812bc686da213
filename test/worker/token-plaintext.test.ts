import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { users } from '../../drizzle/schema.ts';
import { callService, SERVICE_REDIRECT, signedInPerson } from '../support/worker/people.ts';
import { type RegisteredService, registerService } from '../support/worker/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

// TOKEN_PLAINTEXT: once `migrate:encrypt-tokens` has run, an operator can refuse to hand out a
// token stored in plaintext (the old system's, or one planted by a direct write to the database).

let database: TestDatabase;
let service: RegisteredService;
beforeAll(async () => {
  database = await createTestDatabase();
  database.env = { ...database.env, VERIFY_CACHE_SECONDS: '0' };
  service = await registerService(database, {
    redirectUris: [SERVICE_REDIRECT],
    scopes: ['users:verify', 'github:token'],
  });
});

/** A signed-in person whose stored access token is then overwritten with plaintext, not expiring. */
async function personWithPlaintextToken(token: string) {
  const person = await signedInPerson(database, service, 'plain');
  await database.use((db) =>
    db.update(users).set({ accessToken: token, expiresAt: null }).where(eq(users.id, person.userId)),
  );
  return person;
}

async function githubToken(plaintext: string | undefined, session: string) {
  const { TOKEN_PLAINTEXT: _unset, ...rest } = database.env;
  const bindings = plaintext === undefined ? rest : { ...rest, TOKEN_PLAINTEXT: plaintext };
  return callService({ ...database, env: bindings }, '/v1/github-token', service.key, { session });
}

describe('TOKEN_PLAINTEXT', () => {
  it('refuse: a stored plaintext token is never handed out: 409 token_unreadable, logged by user id and code only', async () => {
    const planted = `ghu_planted_${crypto.randomUUID().replaceAll('-', '')}`;
    const person = await personWithPlaintextToken(planted);
    const errors = vi.spyOn(console, 'error');
    try {
      const refused = await githubToken('refuse', person.token);
      const text = await refused.text();
      expect(refused.status).toBe(409);
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'token_unreadable' } });
      expect(text).not.toContain(planted);
      const logged = errors.mock.calls.map((call) => String(call[0]));
      const unreadable = logged
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.event === 'github_token.unreadable');
      expect(unreadable).toEqual([expect.objectContaining({ userId: person.userId, code: 'plaintext_refused' })]);
      expect(logged.join('\n')).not.toContain(planted);
    } finally {
      errors.mockRestore();
    }
  });

  it('read (the default, and when set): the plaintext token is handed out as before', async () => {
    const planted = `ghu_planted_${crypto.randomUUID().replaceAll('-', '')}`;
    const person = await personWithPlaintextToken(planted);
    for (const setting of [undefined, 'read']) {
      const response = await githubToken(setting, person.token);
      expect([setting, response.status]).toEqual([setting, 200]);
      expect(((await response.json()) as { access_token: string }).access_token).toBe(planted);
    }
  });

  it('refuse still hands out an encrypted token', async () => {
    const person = await signedInPerson(database, service, 'sealed');
    const response = await githubToken('refuse', person.token);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { access_token: string }).access_token).toMatch(/^ghu_/);
  });

  it('a value other than read or refuse is a configuration error naming the setting, not a silent read', async () => {
    const person = await signedInPerson(database, service, 'misset');
    const errors = vi.spyOn(console, 'error');
    try {
      const response = await githubToken('no', person.token);
      expect(response.status).toBe(500);
      expect(errors.mock.calls.map((call) => String(call[0])).join('\n')).toContain('TOKEN_PLAINTEXT');
    } finally {
      errors.mockRestore();
    }
  });
});
