import { beforeAll, describe, expect, it } from 'vitest';
import { serviceAuditLogs, users } from '../../drizzle/schema.ts';
import { callWorker } from '../support/worker/call-worker.ts';
import { registerService } from '../support/worker/services.ts';
import { uniqueLogin } from '../support/worker/sign-in-flow.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
let admin: Awaited<ReturnType<typeof registerService>>;
beforeAll(async () => {
  database = await createTestDatabase();
  admin = await registerService(database, { scopes: ['admin'] });
});

describe('the admin API audit entries', () => {
  it("carry user_login, the person's GitHub login, next to user_id (null for an entry about no one)", async () => {
    const login = uniqueLogin('audited');
    const requestId = crypto.randomUUID();
    const [person] = await database.use((db) =>
      db
        .insert(users)
        .values({ githubUserId: String(Date.now()), githubLogin: login })
        .returning({ id: users.id }),
    );
    const userId = person?.id ?? '';
    await database.use((db) =>
      db.insert(serviceAuditLogs).values([
        { id: crypto.randomUUID(), userId, action: 'verify', success: true, metadata: { code: 'ok', requestId } },
        { id: crypto.randomUUID(), action: 'verify', success: false, metadata: { code: 'invalid_key', requestId } },
      ]),
    );
    const response = await callWorker(database.env, '/v1/admin/audit?action=verify', {
      headers: { Authorization: `Bearer ${admin.key}` },
    });
    expect(response.status).toBe(200);
    const { entries } = (await response.json()) as {
      entries: { user_id: string | null; user_login: string | null; request_id: string }[];
    };
    const ours = entries.filter((entry) => entry.request_id === requestId);
    expect(ours.map(({ user_id, user_login }) => ({ user_id, user_login }))).toEqual(
      expect.arrayContaining([
        { user_id: userId, user_login: login },
        { user_id: null, user_login: null },
      ]),
    );
    expect(ours).toHaveLength(2);
  });
});
