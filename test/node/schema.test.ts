import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { diffSchemaAgainstDatabase } from '../../scripts/lib/migrations/schema-diff.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

describe('the Drizzle schema and the migrated database', () => {
  it('agree: a database migrated from empty needs no change to match drizzle/schema.ts', async () => {
    const url = await createDatabase({ migrated: true });
    const diff = await withDatabaseHandle(url, ({ db }) => diffSchemaAgainstDatabase(db));
    expect(diff).toEqual({ statements: [], hasDataLoss: false, warnings: [] });
  });

  // The agreement check must be able to fail: each drift below is one a careless migration could cause.
  it.each([
    ['a missing index', sql`drop index service_audit_logs_success_idx`, /CREATE INDEX.*service_audit_logs_success_idx/],
    ['a nullability change', sql`alter table users alter column github_user_id drop not null`, /SET NOT NULL/],
    [
      'a new default',
      sql`alter table users alter column created_at set default now()`,
      /ALTER TABLE "users" ALTER COLUMN "created_at" DROP DEFAULT;/,
    ],
    [
      'a changed default',
      sql`alter table service_registry alter column is_active set default false`,
      /SET DEFAULT true/,
    ],
    [
      'a type change',
      sql`alter table users alter column expires_at type timestamptz`,
      /ALTER COLUMN "expires_at" SET DATA TYPE timestamp/,
    ],
    [
      'a missing foreign key',
      sql`alter table service_audit_logs drop constraint service_audit_logs_user_id_fkey`,
      /ADD CONSTRAINT "service_audit_logs_user_id_fkey"/,
    ],
    ['an extra column', sql`alter table users add column stray text`, /DROP COLUMN "stray"/],
  ])('notice %s', async (_label, drift, expected) => {
    const url = await createDatabase({ migrated: true });
    const diff = await withDatabaseHandle(url, async ({ db }) => {
      await db.execute(drift);
      return diffSchemaAgainstDatabase(db);
    });
    expect(diff.statements.join('\n')).toMatch(expected);
  });
});
