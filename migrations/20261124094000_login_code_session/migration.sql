-- The session a login code was exchanged for, so that presenting the code a second time (a
-- replay: someone else had it too) revokes that session, as RFC 6749 section 4.1.2 advises.
-- The id is chosen when the code is consumed, in the same statement; no foreign key, because a
-- code consumed for a person who is no longer whitelisted never gets its session.
ALTER TABLE "login_codes" ADD COLUMN "session_id" uuid;
