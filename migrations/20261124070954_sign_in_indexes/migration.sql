-- 20261124070954_sign_in_indexes
-- Indexes on tables that hold rows in production, built without blocking writes.
-- migrate:no-transaction
-- The engine runs this file outside a transaction (the marker above); squawk's config assumes one.
-- squawk-ignore-file ban-concurrent-index-creation-in-transaction

CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_github_login_lower_idx" ON "users" USING btree (lower("github_login"));

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "service_registry_key_id_key" ON "service_registry" USING btree ("key_id");

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "service_registry_previous_key_id_key" ON "service_registry" USING btree ("previous_key_id");
