import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceAuditLogs } from '../../drizzle/schema.ts';
import { insertAuditLogs } from '../../src/db/audit-logs.ts';
import { createTestDatabase, type TestDatabase } from '../support/worker/test-database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});

const rowOf = (id: string) =>
  database.use(async (db) => (await db.select().from(serviceAuditLogs).where(eq(serviceAuditLogs.id, id)))[0]);

describe('audit rows as written', () => {
  it('store every column exactly: text of any kind, the time to the millisecond, the metadata, the cuts', async () => {
    const id = crypto.randomUUID();
    const createdAt = new Date('2026-12-01T20:45:42.652Z');
    const userAgent = `quote " backslash \\ newline \n tab \t emoji 🦊 accents é NUL \u0000 end ${'x'.repeat(600)}`;
    await database.use((db) =>
      insertAuditLogs(db, [
        {
          id,
          serviceId: null,
          userId: null,
          action: 'other:GET',
          success: false,
          failureReason: 'not_found',
          ipAddress: `2001:db8::${'f'.repeat(80)}`,
          userAgent,
          metadata: { code: 'not_found', requestId: 'req "1" \\ é' },
          createdAt,
        },
      ]),
    );
    const row = await rowOf(id);
    expect(row).toEqual({
      id,
      serviceId: null,
      userId: null,
      action: 'other:GET',
      success: false,
      failureReason: 'not_found',
      ipAddress: `2001:db8::${'f'.repeat(80)}`.slice(0, 64),
      userAgent: userAgent.slice(0, 512).replaceAll('\u0000', '\uFFFD'),
      metadata: { code: 'not_found', requestId: 'req "1" \\ é' },
      createdAt,
    });
  });

  it('store a value cut to length in the middle of a character pair, with U+FFFD for its half', async () => {
    const id = crypto.randomUUID();
    // The cut at 512 falls between the two halves of the fox.
    const userAgent = `${'x'.repeat(511)}🦊 and more`;
    await database.use((db) =>
      insertAuditLogs(db, [{ id, action: 'verify', success: true, userAgent, createdAt: new Date() }]),
    );
    expect((await rowOf(id))?.userAgent).toBe(`${'x'.repeat(511)}\uFFFD`);
  });

  it('skip a row whose id is already there, and write the others of the batch', async () => {
    const first = crypto.randomUUID();
    const second = crypto.randomUUID();
    const row = (id: string, action: string) => ({
      id,
      action,
      success: true,
      metadata: { code: 'ok', requestId: 'r' },
      createdAt: new Date(),
    });
    await database.use((db) => insertAuditLogs(db, [row(first, 'verify')]));
    await database.use((db) => insertAuditLogs(db, [row(first, 'redelivered'), row(second, 'verify')]));
    expect((await rowOf(first))?.action).toBe('verify');
    expect((await rowOf(second))?.action).toBe('verify');
  });
});
