import { UUID_PATTERN } from '../db/ids.ts';
import { constantTimeEqual, fromBase64Url, toBase64Url, utf8 } from './encoding.ts';

/**
 * Session tokens: `gws_<session id>.<expiry, unix seconds>.<HMAC-SHA256, base64url>`. The signature
 * lets a forged or expired token be refused without touching the database; the session row it
 * names is what sign-out revokes.
 */
export interface SessionClaims {
  sessionId: string;
  expiresAt: Date;
}

/** The session id is a database id (a lowercase UUID), written with the one pattern src/db/ids.ts keeps. */
const SESSION_ID = UUID_PATTERN.source.replace(/^\^|\$$/g, '');
const PATTERN = new RegExp(`^gws_(${SESSION_ID})\\.(\\d{1,12})\\.([A-Za-z0-9_-]{43})$`);

export async function signSessionToken(claims: SessionClaims, key: CryptoKey): Promise<string> {
  const payload = `${claims.sessionId}.${Math.floor(claims.expiresAt.getTime() / 1000)}`;
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(payload)));
  return `gws_${payload}.${toBase64Url(signature)}`;
}

/**
 * The session id a well-formed token names, its signature not checked: enough to read the row
 * early (the cold verify reads it along with the service key); only `verifySessionToken` says
 * whether the token may be trusted.
 */
export function sessionIdNamedBy(token: string): string | null {
  return PATTERN.exec(token)?.[1] ?? null;
}

export type SessionTokenCheck =
  | { ok: true; claims: SessionClaims }
  | { ok: false; code: 'malformed_session' | 'invalid_session' | 'expired_session' };

/** Checks a token against one key, or against each of several (the current secret's, then previous ones'). */
export async function verifySessionToken(
  token: string,
  keys: CryptoKey | readonly CryptoKey[],
  now = new Date(),
): Promise<SessionTokenCheck> {
  const match = PATTERN.exec(token);
  if (!match) return { ok: false, code: 'malformed_session' };
  const [, sessionId = '', expiry = '', signature = ''] = match;
  const presented = fromBase64Url(signature);
  if (!presented) return { ok: false, code: 'invalid_session' };
  let signed = false;
  for (const key of Array.isArray(keys) ? keys : [keys]) {
    const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(`${sessionId}.${expiry}`)));
    if (constantTimeEqual(presented, expected)) {
      signed = true;
      break;
    }
  }
  if (!signed) return { ok: false, code: 'invalid_session' };
  const expiresAt = new Date(Number(expiry) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, code: 'expired_session' };
  return { ok: true, claims: { sessionId, expiresAt } };
}
