-- The statement drizzle/schema.ts's new column needs, as `npx gateway db migrate-dev` writes it,
-- with IF NOT EXISTS (the seed's guideline); test/node/schema.test.ts checks that the migrated
-- database matches the schema. This file is exactly what `npx gateway db migrate` runs.
--
-- A deleted service keeps its row: service_audit_logs.service_id references it with ON DELETE
-- RESTRICT, so its audit rows stay readable and its id stays reserved. Every lookup skips rows
-- with deleted_at set.
--
-- Allowed: the timestamp is TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz

ALTER TABLE "service_registry" ADD COLUMN IF NOT EXISTS "deleted_at" timestamp(3);
