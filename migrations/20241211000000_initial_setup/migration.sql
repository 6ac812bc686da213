-- 20241211000000_initial_setup
-- The users table: one row per GitHub account that has signed in, with its OAuth tokens and the
-- whitelist flag an operator sets. Written to be re-runnable (IF NOT EXISTS, OR REPLACE).

-- Allowed: timestamps are TIMESTAMP(3) without time zone, as Prisma's DateTime made them in the
-- database this history must adopt; the application reads and writes them as UTC.
-- squawk-ignore-file prefer-timestamp-tz

-- CreateTable
CREATE TABLE IF NOT EXISTS "users" (
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
CREATE UNIQUE INDEX IF NOT EXISTS "users_github_user_id_key" ON "users"("github_user_id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "users_is_whitelisted_idx" ON "users"("is_whitelisted");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "users_created_at_idx" ON "users"("created_at");

-- Keep updated_at current on every UPDATE, whatever client writes the row.
CREATE OR REPLACE FUNCTION "update_updated_at_column"()
RETURNS TRIGGER AS $$
BEGIN
    NEW."updated_at" = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS "update_users_updated_at" ON "users";
CREATE TRIGGER "update_users_updated_at"
    BEFORE UPDATE ON "users"
    FOR EACH ROW
    EXECUTE FUNCTION "update_updated_at_column"();
