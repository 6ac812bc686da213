-- 20261124070953_sign_in_and_service_keys
-- Made by `npm run db:migrate:dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npm run db:migrate` will run in production.
--
-- Sign-in (GitHub login, login codes, sessions, redirect URIs) and service keys (lookup ids, a
-- previous key for the rotation grace period). The audit log's service_id becomes optional: an
-- attempt with an unknown key belongs to no service. The indexes on the existing users and
-- service_registry tables follow in the next migration, built concurrently.
--
-- Allowed: new timestamps are TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz
-- Allowed: service_audit_logs.service_id loses NOT NULL; every reader already handles null
-- (only the gateway writes and reads this table).
-- squawk-ignore-file ban-drop-not-null

CREATE TABLE "login_codes" (
	"code_hash" text PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"redirect_uri" text NOT NULL,
	"expires_at" timestamp (3) NOT NULL,
	"used_at" timestamp (3),
	"created_at" timestamp (3) NOT NULL
);

CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"service_id" uuid,
	"expires_at" timestamp (3) NOT NULL,
	"revoked_at" timestamp (3),
	"created_at" timestamp (3) NOT NULL
);

ALTER TABLE "service_audit_logs" ALTER COLUMN "service_id" DROP NOT NULL;

ALTER TABLE "users" ADD COLUMN "github_login" text;

ALTER TABLE "service_registry" ADD COLUMN "key_id" text;

ALTER TABLE "service_registry" ADD COLUMN "previous_key_id" text;

ALTER TABLE "service_registry" ADD COLUMN "previous_key_hash" text;

ALTER TABLE "service_registry" ADD COLUMN "previous_key_expires_at" timestamp (3);

ALTER TABLE "service_registry" ADD COLUMN "redirect_uris" text[] DEFAULT '{}' NOT NULL;

ALTER TABLE "login_codes" ADD CONSTRAINT "login_codes_service_id_service_registry_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."service_registry"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "login_codes" ADD CONSTRAINT "login_codes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "sessions" ADD CONSTRAINT "sessions_service_id_service_registry_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."service_registry"("id") ON DELETE cascade ON UPDATE cascade;

CREATE INDEX "login_codes_expires_at_idx" ON "login_codes" USING btree ("expires_at");

CREATE INDEX "sessions_user_id_idx" ON "sessions" USING btree ("user_id");
