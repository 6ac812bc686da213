import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { PoolClient } from '@neondatabase/serverless';
import bcrypt from 'bcryptjs';
import { withDatabaseHandle } from './databases.ts';
import { githubLikeToken, OLD_SYSTEM_CIPHERS, oldSystemSecret } from './old-system-cipher.ts';

/**
 * A database exactly as the old Node/Prisma system at v1.2 would have left it, built with SQL and
 * node:crypto only (bcryptjs is the old system's own library), nothing of the gateway's: not its
 * migration engine, not its cipher (the test support's connection is only the wire plain SQL goes over). The rehearsal of the cutover (test/node/migrations/rehearsal.test.ts)
 * runs docs/migrations.md's commands against it.
 *
 * The four migration files are the old system's as Prisma generated them (Prisma's `-- CreateTable`
 * markers, no IF NOT EXISTS, the hand-written trigger and comments), written out here rather than
 * read from this checkout: the checkout's files are a rewrite of the same history (header comments,
 * IF NOT EXISTS, squawk lines), so their SHA-256 differs, as it will for a real old database.
 * The body of the updated_at function (between the $$) is the checkout's, character for character:
 * Postgres keeps a function's body as written, so drift detection compares it as text, and the
 * rewrite is taken to have kept the old body (the old files are not in this repository).
 */
export const OLD_SYSTEM_MIGRATIONS: ReadonlyArray<{ name: string; sql: string }> = [
  {
    name: '20241211000000_initial_setup',
    sql: `-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "github_user_id" TEXT NOT NULL,
    "access_token" TEXT,
    "refresh_token" TEXT,
    "expires_at" TIMESTAMP(3),
    "is_whitelisted" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_github_user_id_key" ON "users"("github_user_id");

-- CreateIndex
CREATE INDEX "users_is_whitelisted_idx" ON "users"("is_whitelisted");

-- CreateIndex
CREATE INDEX "users_created_at_idx" ON "users"("created_at");

-- Create updated_at trigger
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
    NEW."updated_at" = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ language 'plpgsql';

CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON "users"
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
`,
  },
  {
    name: '20251212003115_add_service_registry',
    sql: `-- CreateTable
CREATE TABLE "service_registry" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "service_identifier" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "allowed_scopes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "last_used_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_registry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_audit_logs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "service_id" UUID NOT NULL,
    "user_id" UUID,
    "action" TEXT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "failure_reason" TEXT,
    "ip_address" TEXT,
    "user_agent" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "service_audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "service_registry_service_identifier_key" ON "service_registry"("service_identifier");

-- CreateIndex
CREATE INDEX "service_registry_is_active_idx" ON "service_registry"("is_active");

-- CreateIndex
CREATE INDEX "service_audit_logs_service_id_idx" ON "service_audit_logs"("service_id");

-- CreateIndex
CREATE INDEX "service_audit_logs_user_id_idx" ON "service_audit_logs"("user_id");

-- CreateIndex
CREATE INDEX "service_audit_logs_created_at_idx" ON "service_audit_logs"("created_at");

-- CreateIndex
CREATE INDEX "service_audit_logs_success_idx" ON "service_audit_logs"("success");

-- AddForeignKey
ALTER TABLE "service_audit_logs" ADD CONSTRAINT "service_audit_logs_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service_registry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_audit_logs" ADD CONSTRAINT "service_audit_logs_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Create updated_at trigger for service_registry
CREATE TRIGGER update_service_registry_updated_at BEFORE UPDATE ON "service_registry"
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- Add comments
COMMENT ON TABLE "service_registry" IS 'Downstream services authorized to verify users through the gateway';
COMMENT ON COLUMN "service_registry"."service_identifier" IS 'Unique, stable identifier a service authenticates as';
COMMENT ON COLUMN "service_registry"."display_name" IS 'Human-readable service name';
COMMENT ON COLUMN "service_registry"."api_key_hash" IS 'Hash of the service API key (bcrypt); the key itself is never stored';
COMMENT ON COLUMN "service_registry"."allowed_scopes" IS 'Scopes the service may use (reserved for scope-based permissions)';
COMMENT ON COLUMN "service_registry"."is_active" IS 'Soft delete: inactive services are refused';
COMMENT ON COLUMN "service_registry"."last_used_at" IS 'When the service last authenticated successfully';
COMMENT ON TABLE "service_audit_logs" IS 'One row per service access attempt, allowed or refused';
COMMENT ON COLUMN "service_audit_logs"."service_id" IS 'The service that made the attempt';
COMMENT ON COLUMN "service_audit_logs"."user_id" IS 'The user the attempt concerned, when known';
COMMENT ON COLUMN "service_audit_logs"."action" IS 'What the service attempted';
COMMENT ON COLUMN "service_audit_logs"."success" IS 'Whether the attempt was allowed';
COMMENT ON COLUMN "service_audit_logs"."failure_reason" IS 'Why the attempt was refused';
COMMENT ON COLUMN "service_audit_logs"."ip_address" IS 'Client IP address of the request';
COMMENT ON COLUMN "service_audit_logs"."user_agent" IS 'User-Agent header of the request';
COMMENT ON COLUMN "service_audit_logs"."metadata" IS 'Other request metadata';
`,
  },
  {
    name: '20251212003212_',
    sql: `-- DropIndex
DROP INDEX "users_created_at_idx";

-- DropIndex
DROP INDEX "users_is_whitelisted_idx";

-- AlterTable
ALTER TABLE "service_audit_logs" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT;

-- AlterTable
ALTER TABLE "service_registry" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT,
ALTER COLUMN "updated_at" DROP DEFAULT;

-- AlterTable
ALTER TABLE "users" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT,
ALTER COLUMN "updated_at" DROP DEFAULT;
`,
  },
  {
    name: '20251213000000_encrypt_github_tokens',
    sql: `-- Token Encryption Enhancement (v1.2)
-- No schema changes: tokens are encrypted by the application before they are stored.
-- Format: salt:iv:authTag:ciphertext (AES-256-GCM)

COMMENT ON COLUMN "users"."access_token" IS 'GitHub access token, encrypted: salt:iv:authTag:ciphertext (AES-256-GCM)';
COMMENT ON COLUMN "users"."refresh_token" IS 'GitHub refresh token, encrypted: salt:iv:authTag:ciphertext (AES-256-GCM)';
COMMENT ON COLUMN "users"."expires_at" IS 'When the GitHub access token expires';
`,
  },
];

/** The old system's v1.2 encryption in this rehearsal: its most common variant (PBKDF2-SHA512, 64-byte salt). */
export const OLD_SYSTEM_TOKEN_CIPHER = OLD_SYSTEM_CIPHERS.pbkdf2Sha512;

/** What the old database holds, kept by the test to compare with after the cutover. */
export interface OldSystemDatabase {
  /** The old deployment's token encryption secret: what the operator copies into LEGACY_TOKEN_KEY. */
  legacyKey: string;
  /** Every person, with the token each column held in the clear (null stays null). */
  people: {
    id: string;
    githubUserId: string;
    whitelisted: boolean;
    accessToken: string | null;
    refreshToken: string | null;
  }[];
  /** Every service with the key the old system handed out (only its bcrypt hash is stored). */
  services: { id: string; identifier: string; key: string }[];
  /** The ids of every audit row. */
  auditRowIds: string[];
}

/**
 * The first old service fetched people's GitHub tokens: in the old system any service with scope
 * `github:token` could, for any whitelisted person, by user id (it kept no sessions). The others
 * only verified people.
 */
const scopesOf = (index: number) => (index === 0 ? ['users:verify', 'github:token'] : ['users:verify']);

/** The counts of the rehearsal's old database (small: the cost is in PBKDF2 per old value, not in rows). */
const PEOPLE = { encrypted: 10, plaintext: 3, noTokens: 2 };
const SERVICES = 3;
const AUDIT_ROWS_PER_SERVICE = 4;

/**
 * Lays out the old system's v1.2 database in the empty database `url`: Prisma's ledger in Prisma's
 * own DDL, each migration run as Prisma runs one (the whole script, then one finished row whose
 * checksum is the SHA-256 hex of the file and applied_steps_count 1), then the rows the old system
 * wrote: people (some whitelisted; most tokens in its v1.2 encryption, some plaintext from before
 * v1.2, some null), services with bcrypt key hashes, and audit rows.
 */
export async function buildOldSystemDatabase(url: string): Promise<OldSystemDatabase> {
  return withDatabaseHandle(url, async ({ db }) => {
    const client = await db.$client.connect();
    try {
      return await layOut(client);
    } finally {
      client.release();
    }
  });
}

async function layOut(client: PoolClient): Promise<OldSystemDatabase> {
  await client.query(`CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`);
  for (const migration of OLD_SYSTEM_MIGRATIONS) {
    const id = randomUUID();
    const checksum = createHash('sha256').update(migration.sql).digest('hex');
    await client.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
      [id, checksum, migration.name],
    );
    await client.query(migration.sql);
    await client.query(
      'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE id = $1',
      [id],
    );
  }
  return await insertOldSystemRows(client);
}

async function insertOldSystemRows(client: PoolClient): Promise<OldSystemDatabase> {
  const legacyKey = oldSystemSecret();
  const people: OldSystemDatabase['people'] = [];
  const insertPerson = async (person: OldSystemDatabase['people'][number], stored: [string | null, string | null]) => {
    people.push(person);
    await client.query(
      `INSERT INTO users (id, github_user_id, access_token, refresh_token, expires_at, is_whitelisted, created_at, updated_at)
       VALUES ($1, $2, $3, $4, now() + interval '8 hours', $5, now() - interval '30 days', now() - interval '1 day')`,
      [person.id, person.githubUserId, stored[0], stored[1], person.whitelisted],
    );
  };
  let githubId = 583_231;
  const nextPerson = (whitelisted: boolean) => ({ id: randomUUID(), githubUserId: String(githubId++), whitelisted });
  for (let index = 0; index < PEOPLE.encrypted; index += 1) {
    const accessToken = githubLikeToken();
    // Some people signed in before GitHub Apps expired tokens: no refresh token.
    const refreshToken = index % 4 === 0 ? null : `ghr_${randomBytes(30).toString('hex')}`;
    await insertPerson({ ...nextPerson(index % 3 !== 0), accessToken, refreshToken }, [
      OLD_SYSTEM_TOKEN_CIPHER.encrypt(accessToken, legacyKey),
      refreshToken && OLD_SYSTEM_TOKEN_CIPHER.encrypt(refreshToken, legacyKey),
    ]);
  }
  // Signed in before v1.2 and not since: the old system stored these in the clear.
  for (let index = 0; index < PEOPLE.plaintext; index += 1) {
    const accessToken = githubLikeToken();
    const refreshToken = index === 0 ? `ghr_${randomBytes(30).toString('hex')}` : null;
    await insertPerson({ ...nextPerson(true), accessToken, refreshToken }, [accessToken, refreshToken]);
  }
  for (let index = 0; index < PEOPLE.noTokens; index += 1) {
    await insertPerson({ ...nextPerson(index === 0), accessToken: null, refreshToken: null }, [null, null]);
  }

  const services: OldSystemDatabase['services'] = [];
  const auditRowIds: string[] = [];
  for (let index = 0; index < SERVICES; index += 1) {
    const service = {
      id: randomUUID(),
      identifier: `old-service-${index + 1}`,
      key: `sk_live_${randomBytes(24).toString('hex')}`,
    };
    services.push(service);
    await client.query(
      `INSERT INTO service_registry (id, service_identifier, display_name, api_key_hash, allowed_scopes, is_active, last_used_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, true, now() - interval '2 hours', now() - interval '60 days', now() - interval '60 days')`,
      // The old system's default cost (bcryptjs's genSalt default is 10).
      [service.id, service.identifier, `Old service ${index + 1}`, bcrypt.hashSync(service.key, 10), scopesOf(index)],
    );
    for (let row = 0; row < AUDIT_ROWS_PER_SERVICE; row += 1) {
      const id = randomUUID();
      auditRowIds.push(id);
      const person = people[(index * AUDIT_ROWS_PER_SERVICE + row) % people.length];
      const success = row !== 3;
      await client.query(
        `INSERT INTO service_audit_logs (id, service_id, user_id, action, success, failure_reason, ip_address, user_agent, metadata, created_at)
         VALUES ($1, $2, $3, 'verify_user', $4, $5, '203.0.113.7', 'old-client/1.0', $6, now() - make_interval(days => $7))`,
        [
          id,
          service.id,
          row === 2 ? null : person?.id,
          success,
          success ? null : 'user_not_whitelisted',
          { via: 'v1.2' },
          row + 1,
        ],
      );
    }
  }
  return { legacyKey, people, services, auditRowIds };
}
