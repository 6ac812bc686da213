-- 20251213000000_encrypt_github_tokens
-- Token encryption (v1.2). No schema change: tokens are encrypted by the application
-- (AES-256-GCM, stored as salt:iv:authTag:ciphertext). Existing plaintext tokens are encrypted by
-- `npm run migrate:encrypt-tokens` (see docs/security.md).

COMMENT ON COLUMN "users"."access_token" IS 'GitHub access token, encrypted: salt:iv:authTag:ciphertext (AES-256-GCM)';
COMMENT ON COLUMN "users"."refresh_token" IS 'GitHub refresh token, encrypted: salt:iv:authTag:ciphertext (AES-256-GCM)';
COMMENT ON COLUMN "users"."expires_at" IS 'When the GitHub access token expires';
