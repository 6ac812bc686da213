import { constantTimeEqual, fromBase64Url, toBase64Url, utf8 } from './encoding.ts';
import { rotationSecrets } from './keyring.ts';
import { decodeMasterKey } from './token-cipher.ts';

/**
 * The operator console's per-session CSRF token: HMAC-SHA256 of the gateway session's id under a
 * key derived from SESSION_SECRET (HKDF, its own `info`, so no other key of that secret is ever
 * used for it). The token is the same on every page of one session and changes with the session;
 * a forged form cannot carry it because the attacker never sees a console page. The same key signs
 * the console's flash lines (the query after a POST's 303), bound to the session too.
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

async function macOf(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(message)));
}

// The two messages this key signs, each with its own prefix, so one is never the other.
const tokenMessage = (sessionId: string) => `console:${sessionId}`;
const flashMessage = (sessionId: string, flash: string) => `flash:${sessionId}:${flash}`;

/** The token the console's forms carry for this session (under the current secret). */
export async function consoleCsrfToken(sessionId: string, secret: string): Promise<string> {
  return toBase64Url(await macOf(await csrfKey(secret), tokenMessage(sessionId)));
}

/**
 * Whether a posted token is this session's, compared in constant time; one made under a previous
 * secret (SESSION_SECRET_PREVIOUS, during a rotation) still counts, as the session token does.
 */
export function isConsoleCsrfToken(
  presented: string | null,
  sessionId: string,
  secret: string,
  previous = '',
): Promise<boolean> {
  return isMacOf(presented, tokenMessage(sessionId), secret, previous);
}

/**
 * The signature of a flash (the query a console POST 303s to, without it), under the same key and
 * bound to the session: a link made by anyone else, or for another session, shows no flash.
 */
export async function consoleFlashSignature(sessionId: string, flash: string, secret: string): Promise<string> {
  return toBase64Url(await macOf(await csrfKey(secret), flashMessage(sessionId, flash)));
}

export function isConsoleFlashSignature(
  presented: string | null,
  sessionId: string,
  flash: string,
  secret: string,
  previous = '',
): Promise<boolean> {
  return isMacOf(presented, flashMessage(sessionId, flash), secret, previous);
}

async function isMacOf(presented: string | null, message: string, secret: string, previous: string): Promise<boolean> {
  const bytes = presented ? fromBase64Url(presented) : null;
  if (!bytes) return false;
  let matched = false;
  for (const each of rotationSecrets(secret, previous))
    if (constantTimeEqual(bytes, await macOf(await csrfKey(each), message))) matched = true;
  return matched;
}
