import { utf8 } from './encoding.ts';
import { decodeMasterKey } from './token-cipher.ts';

/**
 * Keys derived from SESSION_SECRET (HKDF-SHA256, one `info` per purpose), so one secret serves two
 * jobs without one key ever doing both.
 */
export interface SessionKeys {
  /** HMAC-SHA256: signs session tokens. */
  tokenSigning: CryptoKey;
  /** AES-256-GCM: seals the short-lived sign-in cookie (state, PKCE verifier, where to return). */
  cookieSealing: CryptoKey;
}

const cache = new Map<string, Promise<SessionKeys>>();

export function loadSessionKeys(secret: string): Promise<SessionKeys> {
  let keys = cache.get(secret);
  if (!keys) {
    keys = deriveSessionKeys(secret);
    cache.set(secret, keys);
  }
  return keys;
}

async function deriveSessionKeys(secret: string): Promise<SessionKeys> {
  const base = await crypto.subtle.importKey('raw', decodeMasterKey(secret, 'SESSION_SECRET'), 'HKDF', false, [
    'deriveKey',
  ]);
  const derive = (
    info: string,
    algorithm: Parameters<SubtleCrypto['deriveKey']>[2],
    usages: ('sign' | 'verify' | 'encrypt' | 'decrypt')[],
  ) =>
    crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(info) },
      base,
      algorithm,
      false,
      usages,
    );
  const [tokenSigning, cookieSealing] = await Promise.all([
    derive('edge-github-gateway/session-token/v1', { name: 'HMAC', hash: 'SHA-256', length: 256 }, ['sign', 'verify']),
    derive('edge-github-gateway/sign-in-cookie/v1', { name: 'AES-GCM', length: 256 }, ['encrypt', 'decrypt']),
  ]);
  return { tokenSigning, cookieSealing };
}
