-- 20261201181612_events_indexes
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts, then made CONCURRENTLY by hand:
-- sessions holds rows in production, and a plain CREATE INDEX would block sign-ins while it builds.
--
-- sessions_expires_at_idx: the events sweep (once a minute) finds the standing access that ran out
-- in the last hour. service_events_undelivered_service_id_idx: every service listing counts each
-- service's undelivered events without reading its delivered history.
-- migrate:no-transaction
-- The engine runs this file outside a transaction (the marker above); squawk's config assumes one.
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction

CREATE INDEX CONCURRENTLY IF NOT EXISTS "service_events_undelivered_service_id_idx" ON "service_events" USING btree ("service_id") WHERE "service_events"."delivered_at" IS NULL AND "service_events"."given_up_at" IS NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS "sessions_expires_at_idx" ON "sessions" USING btree ("expires_at");
