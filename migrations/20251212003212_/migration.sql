-- 20251212003212_
-- Schema sync: the application (then Prisma, now Drizzle) supplies ids and timestamps, so the
-- database defaults go; the users indexes on created_at and is_whitelisted were unused.

-- Allowed: plain DROP INDEX (not CONCURRENTLY) so the sync stays one transaction; the users
-- table was small when this ran, and the brief ACCESS EXCLUSIVE lock is bounded by lock_timeout.
-- squawk-ignore-file require-concurrent-index-deletion

-- DropIndex
DROP INDEX IF EXISTS "users_created_at_idx";

-- DropIndex
DROP INDEX IF EXISTS "users_is_whitelisted_idx";

-- AlterTable
ALTER TABLE "users" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT,
ALTER COLUMN "updated_at" DROP DEFAULT;

-- AlterTable
ALTER TABLE "service_registry" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT,
ALTER COLUMN "updated_at" DROP DEFAULT;

-- AlterTable
ALTER TABLE "service_audit_logs" ALTER COLUMN "id" DROP DEFAULT,
ALTER COLUMN "created_at" DROP DEFAULT;
