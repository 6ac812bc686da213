-- 20251212003115_add_service_registry
-- Downstream services allowed to ask about people (service_registry), and one audit row per
-- access attempt they make (service_audit_logs).

-- Allowed: timestamps are TIMESTAMP(3) without time zone, as Prisma's DateTime made them in the
-- database this history must adopt; the application reads and writes them as UTC.
-- squawk-ignore-file prefer-timestamp-tz

-- CreateTable
CREATE TABLE IF NOT EXISTS "service_registry" (
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
CREATE TABLE IF NOT EXISTS "service_audit_logs" (
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

    CONSTRAINT "service_audit_logs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_audit_logs_service_id_fkey" FOREIGN KEY ("service_id")
        REFERENCES "service_registry"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "service_audit_logs_user_id_fkey" FOREIGN KEY ("user_id")
        REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "service_registry_service_identifier_key" ON "service_registry"("service_identifier");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "service_registry_is_active_idx" ON "service_registry"("is_active");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "service_audit_logs_service_id_idx" ON "service_audit_logs"("service_id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "service_audit_logs_user_id_idx" ON "service_audit_logs"("user_id");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "service_audit_logs_created_at_idx" ON "service_audit_logs"("created_at");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "service_audit_logs_success_idx" ON "service_audit_logs"("success");

-- Same updated_at trigger as users (the function comes from 20241211000000_initial_setup).
DROP TRIGGER IF EXISTS "update_service_registry_updated_at" ON "service_registry";
CREATE TRIGGER "update_service_registry_updated_at"
    BEFORE UPDATE ON "service_registry"
    FOR EACH ROW
    EXECUTE FUNCTION "update_updated_at_column"();

-- Comments
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
