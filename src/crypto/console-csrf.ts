import { constantTimeEqual, fromBase64Url, toBase64Url, utf8 } from './encoding.ts';
import { rotationSecrets } from './keyring.ts';
import { decodeMasterKey } from './token-cipher.ts';

/**
 * The operator console's per-session CSRF token: HMAC-SHA256 of the gateway session's id under a
 * key derived from SESSION_SECRET (HKDF, its own `info`, so no other key of that secret is ever
 * used for it). The token is the same on every page of one session and changes with the session;
 * a forged form cannot carry it because the attacker never sees a console page.
 */
const INFO = 'edge-github-gateway/console-csrf/v1';

const keys = new Map<string, Promise<CryptoKey>>();

function csrfKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey('raw', decodeMasterKey(secret, 'SESSION_SECRET'), 'HKDF', false, [
        'deriveKey',
      ]);
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(INFO) },
        base,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign'],
      );
    })();
    keys.set(secret, key);
  }
  return key;
}

async function tokenBytes(key: CryptoKey, sessionId: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(`console:${sessionId}`)));
}

/** The token the console's forms carry for this session (under the current secret). */
export async function consoleCsrfToken(sessionId: string, secret: string): Promise<string> {
  return toBase64Url(await tokenBytes(await csrfKey(secret), sessionId));
}

/**
 * Whether a posted token is this session's, compared in constant time; one made under a previous
 * secret (SESSION_SECRET_PREVIOUS, during a rotation) still counts, as the session token does.
 */
export async function isConsoleCsrfToken(
  presented: string | null,
  sessionId: string,
  secret: string,
  previous = '',
): Promise<boolean> {
  const bytes = presented ? fromBase64Url(presented) : null;
  if (!bytes) return false;
  let matched = false;
  for (const each of rotationSecrets(secret, previous))
    if (constantTimeEqual(bytes, await tokenBytes(await csrfKey(each), sessionId))) matched = true;
  return matched;
}
