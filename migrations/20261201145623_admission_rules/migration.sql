-- 20261201145623_admission_rules
-- Made by `npx gateway db migrate-dev` from drizzle/schema.ts. Review it before committing: this file
-- is exactly what `npx gateway db migrate` will run in production.
--
-- Admission by GitHub organization, team or login besides the whitelist flag (admission_rules),
-- and each person's last membership check (membership_checks), which verify reads with the
-- session. Two new, empty tables: their foreign keys take no long lock on users.
--
-- Allowed: the timestamps are TIMESTAMP(3) holding UTC, like every other table of this schema.
-- squawk-ignore-file prefer-timestamp-tz
--
-- Postgres has no IF NOT EXISTS for ADD CONSTRAINT, so these statements are not guarded:
--   ALTER TABLE "membership_checks" ADD CONSTRAINT "membership_checks_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;
--   ALTER TABLE "membership_checks" ADD CONSTRAINT "membership_checks_admitted_by_rule_id_admission_rules_id_fk" FOREIGN KEY ("admitted_by_rule_id") REFERENCES "public"."admission_rules"("id") ON DELETE set null ON UPDATE cascade;
-- If one of them finds its object already there, the migration fails; in a transaction (the default)
-- nothing of it is applied, and the engine reports the statement. The other statements say IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS "admission_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"target" text NOT NULL,
	"org_login" text,
	"org_id" text,
	"team_slug" text,
	"github_user_id" text,
	"github_login" text,
	"created_at" timestamp (3) NOT NULL,
	"created_by" text NOT NULL,
	"removed_at" timestamp (3),
	"removed_by" text
);

CREATE TABLE IF NOT EXISTS "membership_checks" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"admitted_by_rule_id" uuid,
	"checked_at" timestamp (3),
	"attempted_at" timestamp (3) NOT NULL,
	"failure" text
);

ALTER TABLE "membership_checks" ADD CONSTRAINT "membership_checks_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE cascade;

ALTER TABLE "membership_checks" ADD CONSTRAINT "membership_checks_admitted_by_rule_id_admission_rules_id_fk" FOREIGN KEY ("admitted_by_rule_id") REFERENCES "public"."admission_rules"("id") ON DELETE set null ON UPDATE cascade;

CREATE UNIQUE INDEX IF NOT EXISTS "admission_rules_live_target_key" ON "admission_rules" USING btree ("target") WHERE "admission_rules"."removed_at" IS NULL;

CREATE INDEX IF NOT EXISTS "admission_rules_github_user_id_idx" ON "admission_rules" USING btree ("github_user_id");
