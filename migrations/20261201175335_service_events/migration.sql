-- 20261201175335_service_events
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npx gateway db migrate` will run in production.
--
-- Events pushed to services (docs/api.md, "Events"): each service's events URL and its encrypted
-- signing secrets (five nullable columns on service_registry: no rewrite, no long lock), an outbox
-- of events (service_events) and every delivery attempt (service_event_attempts). Two new, empty
-- tables: their foreign keys take no long lock.
--
-- Allowed: the timestamps are TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz
-- Allowed: the three integers are an HTTP status, an attempt count (at most 8) and a duration in
-- milliseconds (at most the 10 s timeout); none comes near 2^31.
-- squawk-ignore-file prefer-bigint-over-int
--
-- Postgres has no IF NOT EXISTS for ADD CONSTRAINT, so these statements are not guarded:
--   ALTER TABLE "service_event_attempts" ADD CONSTRAINT "service_event_attempts_event_id_service_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."service_events"("id") ON DELETE cascade ON UPDATE cascade;
--   ALTER TABLE "service_events" ADD CONSTRAINT "service_events_service_id_service_registry_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."service_registry"("id") ON DELETE cascade ON UPDATE cascade;
-- If one of them finds its object already there, the migration fails; in a transaction (the default)
-- nothing of it is applied, and the engine reports the statement. The other statements say IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS "service_event_attempts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"event_id" uuid NOT NULL,
	"attempted_at" timestamp (3) NOT NULL,
	"status" integer,
	"error" text,
	"duration_ms" integer NOT NULL
);

CREATE TABLE IF NOT EXISTS "service_events" (
	"id" uuid PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"type" text NOT NULL,
	"body" text NOT NULL,
	"dedupe_key" text,
	"created_at" timestamp (3) NOT NULL,
	"next_attempt_at" timestamp (3) NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"delivered_at" timestamp (3),
	"given_up_at" timestamp (3)
);

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "events_url" text;

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "events_secret" text;

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "events_previous_secret" text;

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "events_previous_secret_expires_at" timestamp (3);

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "events_failing_since" timestamp (3);

ALTER TABLE "service_event_attempts" ADD CONSTRAINT "service_event_attempts_event_id_service_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."service_events"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "service_events" ADD CONSTRAINT "service_events_service_id_service_registry_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."service_registry"("id") ON DELETE cascade ON UPDATE cascade;

CREATE INDEX IF NOT EXISTS "service_event_attempts_event_id_idx" ON "service_event_attempts" USING btree ("event_id");

CREATE UNIQUE INDEX IF NOT EXISTS "service_events_dedupe_key_key" ON "service_events" USING btree ("dedupe_key");

CREATE INDEX IF NOT EXISTS "service_events_service_id_created_at_idx" ON "service_events" USING btree ("service_id","created_at");

CREATE INDEX IF NOT EXISTS "service_events_due_idx" ON "service_events" USING btree ("next_attempt_at") WHERE "service_events"."delivered_at" IS NULL AND "service_events"."given_up_at" IS NULL;
