import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { migrate, migrationStatus, resolveMigration } from '../../../scripts/lib/migrations/engine.ts';
import { withMigrationSession } from '../../../scripts/lib/migrations/session.ts';
import {
  createDatabase,
  migrationsFolder,
  repositoryMigrations,
  withDatabaseHandle,
} from '../../support/node/databases.ts';
import { withEngine } from '../../support/node/migrations.ts';

// Prisma's rule, written here from its description rather than from the engine (prisma-engines,
// schema-connector checksum.rs): SHA-256 hex of the script; a recorded checksum matches the script, or
// the script with CRLF made LF, or with LF made CRLF; old ledgers hold each byte's hex without its zero.
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const unpadded = (hex: string) =>
  Buffer.from(hex, 'hex')
    .toJSON()
    .data.map((byte) => byte.toString(16))
    .join('');

const FIRST = repositoryMigrations()[0] ?? '';

function sqlFile(folder: string, name: string): string {
  return path.join(folder, name, 'migration.sql');
}

async function ledgerRows(url: string, name: string) {
  return withDatabaseHandle(url, async ({ db }) => {
    const rows = await db.execute<{
      id: string;
      checksum: string;
      finished_at: Date | null;
      started_at: Date;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(sql`select * from _prisma_migrations where migration_name = ${name} order by started_at`);
    return rows.rows;
  });
}

async function setRecordedChecksum(url: string, name: string, checksum: string): Promise<void> {
  await withDatabaseHandle(url, ({ db }) =>
    db.execute(sql`update _prisma_migrations set checksum = ${checksum} where migration_name = ${name}`),
  );
}

async function stateOf(url: string, folder: string, name: string) {
  const statuses = await withMigrationSession(url, ({ session }) =>
    migrationStatus({ session, migrationsDir: folder }),
  );
  return statuses.find((status) => status.name === name)?.state;
}

describe("ledger checksums, compared and written as Prisma's", () => {
  it('a file with CRLF line endings matches a ledger checksum of its LF form, and an LF file one of its CRLF form', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const lf = readFileSync(sqlFile(folder, FIRST), 'utf8');
    expect(lf).not.toContain('\r');
    writeFileSync(sqlFile(folder, FIRST), lf.replaceAll('\n', '\r\n'));
    expect(await stateOf(url, folder, FIRST)).toBe('applied');

    writeFileSync(sqlFile(folder, FIRST), lf);
    await setRecordedChecksum(url, FIRST, sha256(lf.replaceAll('\n', '\r\n')));
    expect(await stateOf(url, folder, FIRST)).toBe('applied');
  });

  it('a checksum an old Prisma wrote without zero padding matches its file', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    // A file whose SHA-256 has a byte below 0x10, so the unpadded form is shorter than 64.
    const name = repositoryMigrations().find(
      (candidate) => unpadded(sha256(readFileSync(sqlFile(folder, candidate)))).length < 64,
    );
    expect(name).toBeDefined();
    await setRecordedChecksum(url, name ?? '', unpadded(sha256(readFileSync(sqlFile(folder, name ?? '')))));
    expect(await stateOf(url, folder, name ?? '')).toBe('applied');
  });

  it('a file that differs by more than its line endings is modified, a trailing newline included', async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const original = readFileSync(sqlFile(folder, FIRST), 'utf8');
    writeFileSync(sqlFile(folder, FIRST), `${original}\n`);
    expect(await stateOf(url, folder, FIRST)).toBe('modified');
    writeFileSync(sqlFile(folder, FIRST), original.replace('CREATE', 'create'));
    expect(await stateOf(url, folder, FIRST)).toBe('modified');
  });

  it('records the SHA-256 hex of the file exactly as read (CRLF kept), as Prisma records a migration it applies', async () => {
    const url = await createDatabase({ migrated: true });
    const body = 'CREATE TABLE "crlf_made" (id int);\r\n-- a comment\r\n';
    const folder = migrationsFolder({ '20260101000000_crlf': body });
    await withEngine(url, folder, (options) => migrate(options));
    const [row] = await ledgerRows(url, '20260101000000_crlf');
    expect(row?.checksum).toBe(sha256(Buffer.from(body, 'utf8')));
    expect(row?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("resolve --applied on a modified migration rewrites that one row's checksum to the file's, keeping its id, times and steps, and logs the old one", async () => {
    const url = await createDatabase({ migrated: true });
    const folder = migrationsFolder();
    const edited = `${readFileSync(sqlFile(folder, FIRST), 'utf8')}-- reworded by the rewrite\n`;
    writeFileSync(sqlFile(folder, FIRST), edited);
    const [before] = await ledgerRows(url, FIRST);
    expect(await stateOf(url, folder, FIRST)).toBe('modified');

    await withEngine(url, folder, (options) => resolveMigration(options, { applied: FIRST }));

    const after = await ledgerRows(url, FIRST);
    // Still the one finished, not rolled back row Prisma's migrate deploy and status read by name.
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      id: before?.id,
      checksum: sha256(Buffer.from(edited, 'utf8')),
      finished_at: before?.finished_at,
      started_at: before?.started_at,
      rolled_back_at: null,
      applied_steps_count: before?.applied_steps_count,
    });
    expect(after[0]?.logs).toContain(`checksum ${before?.checksum} replaced by ${after[0]?.checksum}`);
    expect(await stateOf(url, folder, FIRST)).toBe('applied');
  });
});
