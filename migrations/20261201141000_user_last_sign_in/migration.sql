-- 20261201141000_user_last_sign_in
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npx gateway db migrate` will run in production.
--
-- When a person last came back from GitHub signed in, admitted or not: `gateway users list` shows
-- it and `--pending` orders by it. Rows from before it was kept stay null ("unknown"): updated_at
-- cannot stand in, token refreshes and whitelist changes move it too.
--
-- Allowed: the timestamp is TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz

ALTER TABLE "users" ADD COLUMN IF NOT EXISTS "last_sign_in_at" timestamp (3);
