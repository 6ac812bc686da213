-- 20261201140000_change_records
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npx gateway db migrate` will run in production.
--
-- Who changed what (operator commands, the admin API) and every sign-in outcome and sign-out
-- (src/changes/). service_audit_logs keeps the seed's meaning, service access attempts; `gateway
-- audit query` shows both, newest first. A new, empty table: its foreign keys take no long lock.
--
-- Allowed: the timestamp is TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz
--
-- Postgres has no IF NOT EXISTS for ADD CONSTRAINT, so these statements are not guarded:
--   ALTER TABLE "change_records" ADD CONSTRAINT "change_records_actor_service_id_fkey" FOREIGN KEY ("actor_service_id") REFERENCES "public"."service_registry"("id") ON DELETE restrict ON UPDATE cascade;
--   ALTER TABLE "change_records" ADD CONSTRAINT "change_records_subject_service_id_fkey" FOREIGN KEY ("subject_service_id") REFERENCES "public"."service_registry"("id") ON DELETE restrict ON UPDATE cascade;
--   ALTER TABLE "change_records" ADD CONSTRAINT "change_records_actor_user_id_fkey" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE cascade;
--   ALTER TABLE "change_records" ADD CONSTRAINT "change_records_subject_user_id_fkey" FOREIGN KEY ("subject_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE cascade;
-- If one of them finds its object already there, the migration fails; in a transaction (the default)
-- nothing of it is applied, and the engine reports the statement. The other statements say IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS "change_records" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"action" text NOT NULL,
	"success" boolean NOT NULL,
	"code" text NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_name" text,
	"actor_service_id" uuid,
	"actor_user_id" uuid,
	"subject_user_id" uuid,
	"subject_service_id" uuid,
	"ip_address" text,
	"user_agent" text,
	"host" text,
	"request_id" text,
	"details" jsonb NOT NULL,
	"created_at" timestamp (3) NOT NULL
);

ALTER TABLE "change_records" ADD CONSTRAINT "change_records_actor_service_id_fkey" FOREIGN KEY ("actor_service_id") REFERENCES "public"."service_registry"("id") ON DELETE restrict ON UPDATE cascade;

ALTER TABLE "change_records" ADD CONSTRAINT "change_records_subject_service_id_fkey" FOREIGN KEY ("subject_service_id") REFERENCES "public"."service_registry"("id") ON DELETE restrict ON UPDATE cascade;

ALTER TABLE "change_records" ADD CONSTRAINT "change_records_actor_user_id_fkey" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE cascade;

ALTER TABLE "change_records" ADD CONSTRAINT "change_records_subject_user_id_fkey" FOREIGN KEY ("subject_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE cascade;

CREATE INDEX IF NOT EXISTS "change_records_created_at_id_idx" ON "change_records" USING btree ("created_at","id");

CREATE INDEX IF NOT EXISTS "change_records_subject_user_id_idx" ON "change_records" USING btree ("subject_user_id");

CREATE INDEX IF NOT EXISTS "change_records_subject_service_id_idx" ON "change_records" USING btree ("subject_service_id");
