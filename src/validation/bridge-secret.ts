/**
 * The local bridge's per-run secret (scripts/lib/ws-bridge.ts makes it, the Worker sends it as
 * DATABASE_WS_PROXY_SECRET): base64url of at least 32 random bytes, so it is safe in a URL path
 * and in a .vars file.
 */
export const BRIDGE_SECRET_PATTERN = /^[A-Za-z0-9_-]{43,}$/;
