import { utf8 } from './encoding.ts';
import { rotationSecrets } from './keyring.ts';
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
  /** What a token is checked against: the current signing key, then those of previous secrets. */
  tokenChecking: CryptoKey[];
  /** What a sign-in cookie is opened with: the current sealing key, then those of previous secrets. */
  cookieOpening: CryptoKey[];
}

interface DerivedKeys {
  tokenSigning: CryptoKey;
  cookieSealing: CryptoKey;
}

const cache = new Map<string, Promise<DerivedKeys>>();

/**
 * The keys of SESSION_SECRET, plus those of SESSION_SECRET_PREVIOUS (comma-separated) for checking
 * only: during a rotation, sessions and sign-ins begun under the old secret keep working while
 * everything new is signed and sealed under the new one.
 */
export async function loadSessionKeys(secret: string, previous = ''): Promise<SessionKeys> {
  const [current, ...older] = await Promise.all(rotationSecrets(secret, previous).map(derivedKeys));
  if (!current) throw new Error('unreachable: the current secret always derives');
  return {
    tokenSigning: current.tokenSigning,
    cookieSealing: current.cookieSealing,
    tokenChecking: [current, ...older].map((keys) => keys.tokenSigning),
    cookieOpening: [current, ...older].map((keys) => keys.cookieSealing),
  };
}

function derivedKeys(secret: string): Promise<DerivedKeys> {
  let keys = cache.get(secret);
  if (!keys) {
    keys = deriveSessionKeys(secret);
    cache.set(secret, keys);
  }
  return keys;
}

async function deriveSessionKeys(secret: string): Promise<DerivedKeys> {
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
