import type { KeySet } from './jwks.ts';

/**
 * An assertion checked offline (docs/api.md, "Assertions verified offline"): an EdDSA JWT whose
 * signature, issuer, audience and times this process checks with WebCrypto and the gateway's key
 * set, with no call to the gateway.
 */

/**
 * An `iat` up to this far in the future is taken (the service's clock runs behind the gateway's).
 * `exp` gets no tolerance: it would only lengthen how long a revoked person still verifies, and a
 * clock running ahead merely falls back to the online verify sooner.
 */
export const CLOCK_SKEW_SECONDS = 30;

/** Why an assertion is refused: not the gateway's, or not for this service. Never a fallback. */
export type AssertionRefusal = 'malformed_assertion' | 'bad_signature' | 'wrong_issuer' | 'wrong_audience';
/** Why an assertion says nothing now, so the online verify is asked instead (with a session). */
export type AssertionFallbackReason = 'expired_assertion' | 'not_yet_valid' | 'unknown_key' | 'jwks_unavailable';

/** The person an assertion names: `user` of the exchange. */
export interface AssertedPerson {
  id: string;
  github_id: string;
  login: string | null;
}

export interface AssertedClaims {
  user: AssertedPerson;
  scopes: string[];
  /** The session it was issued for (the part of `gws_<id>.…`). */
  sessionId: string;
  expiresAt: Date;
}

export type AssertionCheck =
  | { ok: true; claims: AssertedClaims }
  | { ok: false; refused: AssertionRefusal }
  | { ok: false; fallback: AssertionFallbackReason };

export interface AssertionExpectations {
  issuer: string;
  audience: string;
  keys: KeySet;
  now: () => number;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export async function checkAssertion(token: string, expected: AssertionExpectations): Promise<AssertionCheck> {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return refused('malformed_assertion');
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts;
  const header = jsonOf(encodedHeader);
  const payload = jsonOf(encodedPayload);
  const signature = bytesOf(encodedSignature);
  if (
    header === null ||
    payload === null ||
    signature === null ||
    signature.length !== 64 ||
    header.alg !== 'EdDSA' ||
    header.typ !== 'JWT' ||
    typeof header.kid !== 'string' ||
    // RFC 7515 §4.1.11: an extension this verifier does not know must not be ignored.
    'crit' in header
  ) {
    return refused('malformed_assertion');
  }

  const found = await expected.keys.keyFor(header.kid);
  if ('missing' in found) return { ok: false, fallback: found.missing };
  const signedBytes = new TextEncoder().encode(`${encodedHeader}.${encodedPayload}`);
  if (!(await crypto.subtle.verify('Ed25519', found.key, signature, signedBytes))) return refused('bad_signature');

  // Signed by the gateway: from here on, what it says is checked against what this service expects.
  if (payload.iss !== expected.issuer) return refused('wrong_issuer');
  const audience = payload.aud;
  if (!(audience === expected.audience || (Array.isArray(audience) && audience.includes(expected.audience)))) {
    return refused('wrong_audience');
  }
  const { sub, github_id, login, scope, sid, iat, exp } = payload;
  if (
    typeof sub !== 'string' ||
    typeof github_id !== 'string' ||
    !(typeof login === 'string' || login === null) ||
    typeof scope !== 'string' ||
    typeof sid !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    return refused('malformed_assertion');
  }
  const nowSeconds = expected.now() / 1000;
  if (nowSeconds >= exp) return { ok: false, fallback: 'expired_assertion' };
  if (iat > nowSeconds + CLOCK_SKEW_SECONDS) return { ok: false, fallback: 'not_yet_valid' };
  return {
    ok: true,
    claims: {
      user: { id: sub, github_id, login },
      scopes: scope === '' ? [] : scope.split(' '),
      sessionId: sid,
      expiresAt: new Date(exp * 1000),
    },
  };
}

function refused(reason: AssertionRefusal): AssertionCheck {
  return { ok: false, refused: reason };
}

function bytesOf(segment: string): Uint8Array<ArrayBuffer> | null {
  try {
    const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function jsonOf(segment: string): Record<string, unknown> | null {
  const bytes = bytesOf(segment);
  if (bytes === null) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
