-- The session a login code was exchanged for, so that presenting the code a second time (a
-- replay: someone else had it too) revokes that session, as RFC 6749 section 4.1.2 advises.
-- The id is chosen when the code is consumed, in the same statement; no foreign key, because a
-- code consumed for a person who is no longer whitelisted never gets its session.
ALTER TABLE "login_codes" ADD COLUMN "session_id" uuid;

-- A service's PKCE challenge (RFC 7636, S256, base64url of SHA-256): when present, the exchange
-- must bring the matching code_verifier, so a code is good only to the one who started the sign-in.
ALTER TABLE "login_codes" ADD COLUMN "code_challenge" text;
