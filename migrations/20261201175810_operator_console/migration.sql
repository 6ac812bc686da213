-- 20261201175810_operator_console
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npx gateway db migrate` will run in production.
--
-- The operator console (/console): who holds its grant (operator_grants), and the pending sign-ups
-- an operator dismissed (pending_dismissals). Two new, empty tables beside users, which is left as
-- the old system knows it: its code reads and writes users and never sees these. Their foreign keys
-- on users take no long lock (the tables are empty).
--
-- Allowed: the timestamps are TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz
--
-- Postgres has no IF NOT EXISTS for ADD CONSTRAINT, so these statements are not guarded:
--   ALTER TABLE "operator_grants" ADD CONSTRAINT "operator_grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;
--   ALTER TABLE "pending_dismissals" ADD CONSTRAINT "pending_dismissals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;
-- If one of them finds its object already there, the migration fails; in a transaction (the default)
-- nothing of it is applied, and the engine reports the statement. The other statements say IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS "operator_grants" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"granted_at" timestamp (3) NOT NULL
);

CREATE TABLE IF NOT EXISTS "pending_dismissals" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"dismissed_at" timestamp (3) NOT NULL
);

ALTER TABLE "operator_grants" ADD CONSTRAINT "operator_grants_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "pending_dismissals" ADD CONSTRAINT "pending_dismissals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;
