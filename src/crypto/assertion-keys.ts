import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { fromBase64Url, utf8 } from './encoding.ts';

/**
 * The Ed25519 keys assertions are signed with (docs/api.md, "Assertions verified offline").
 * ASSERTION_SIGNING_KEY is one private JWK (RFC 8037: `kty` OKP, `crv` Ed25519, `d`, `x`) with its
 * `kid`: a JWK, not base64 PKCS#8, because it carries its own `kid` and public half (`x`), so the
 * one setting is all the JWKS needs, and ASSERTION_PREVIOUS_KEYS holds the same shape minus `d`.
 */

/** A public key as the JWKS serves it. */
export interface PublicAssertionJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface AssertionKeys {
  /** The key new assertions are signed with; null: the gateway issues none. */
  signing: { kid: string; privateKey: CryptoKey } | null;
  /** The current public key, then the previous ones (a rotation), each `kid` once. */
  jwks: { keys: PublicAssertionJwk[] };
}

/** A `kid` goes into every JWT header and the JWKS: printable, short, no quoting surprises. */
const KID = /^[A-Za-z0-9._-]{1,64}$/;
/** 32 bytes as unpadded base64url: an Ed25519 key's `x` or `d`. */
const KEY_BYTES = /^[A-Za-z0-9_-]{43}$/;

function isKeyBytes(value: unknown): value is string {
  return typeof value === 'string' && KEY_BYTES.test(value) && fromBase64Url(value)?.length === 32;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The fields every Ed25519 JWK of these settings must have right (`alg`, when given, is EdDSA). */
function isEd25519Jwk(value: unknown): value is { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    isKeyBytes(jwk.x) &&
    typeof jwk.kid === 'string' &&
    KID.test(jwk.kid) &&
    (jwk.alg === undefined || jwk.alg === 'EdDSA')
  );
}

/** Why ASSERTION_SIGNING_KEY is unusable, or null when its shape is right. Never quotes the value. */
export function signingKeyProblem(setting: string): string | null {
  const jwk = parseJson(setting);
  if (!isEd25519Jwk(jwk) || !isKeyBytes((jwk as { d?: unknown }).d)) {
    return 'must be an Ed25519 private JWK (kty OKP, crv Ed25519, d, x, kid) as JSON (npx gateway tokens generate-assertion-key makes one)';
  }
  return null;
}

/** Why ASSERTION_PREVIOUS_KEYS is unusable, or null. A `d` is refused: the JWKS publishes these. */
export function previousKeysProblem(setting: string): string | null {
  const list = setting.trim() === '' ? [] : parseJson(setting);
  if (!Array.isArray(list) || !list.every(isEd25519Jwk)) {
    return 'must be a JSON array of Ed25519 public JWKs (kty OKP, crv Ed25519, x, kid): the second line of npx gateway tokens generate-assertion-key';
  }
  if (list.some((jwk) => 'd' in jwk)) {
    return 'must hold public keys only (no "d"): every key in it is published at /.well-known/jwks.json';
  }
  return null;
}

function publicJwk(jwk: { x: string; kid: string }): PublicAssertionJwk {
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' };
}

/** Imported once per isolate for each pair of settings (the config is the same for every request). */
const loaded = new Map<string, Promise<AssertionKeys>>();

/**
 * The keys of the two settings, already checked by the config's schema. The private key is
 * imported (non-extractable) and proven to match its `x` once: a key whose halves disagree would
 * sign assertions no verifier accepts, so it fails here, naming the setting.
 */
export function loadAssertionKeys(signingSetting: string | undefined, previousSetting: string): Promise<AssertionKeys> {
  const cacheKey = `${signingSetting ?? ''}\n${previousSetting}`;
  let keys = loaded.get(cacheKey);
  if (!keys) {
    keys = importAssertionKeys(signingSetting, previousSetting);
    // A failure is not kept: the next request tries again (and logs it again).
    keys.catch(() => loaded.delete(cacheKey));
    loaded.set(cacheKey, keys);
  }
  return keys;
}

async function importAssertionKeys(
  signingSetting: string | undefined,
  previousSetting: string,
): Promise<AssertionKeys> {
  // No signing key: no assertions, and no key to check one with (turning the feature off is immediate).
  if (signingSetting === undefined) return { signing: null, jwks: { keys: [] } };
  const previous = (
    previousSetting.trim() === '' ? [] : (JSON.parse(previousSetting) as { x: string; kid: string }[])
  ).map(publicJwk);
  const jwk = JSON.parse(signingSetting) as { d: string; x: string; kid: string };
  const privateKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x },
    { name: 'Ed25519' },
    false,
    ['sign'],
  );
  const publicKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'Ed25519', x: jwk.x },
    { name: 'Ed25519' },
    false,
    ['verify'],
  );
  const probe = utf8('edge-github-gateway/assertion-key-check');
  const signature = await crypto.subtle.sign('Ed25519', privateKey, probe);
  if (!(await crypto.subtle.verify('Ed25519', publicKey, signature, probe))) {
    throw new Error(
      'ASSERTION_SIGNING_KEY: its d and x are not one key pair (npx gateway tokens generate-assertion-key makes one)',
    );
  }
  return { signing: { kid: jwk.kid, privateKey }, jwks: { keys: dedupeByKid([publicJwk(jwk), ...previous]) } };
}

/**
 * One entry per `kid`, the first kept: during a rotation the outgoing key may already sit in
 * ASSERTION_PREVIOUS_KEYS while it still signs (the two secrets are put one after the other).
 */
function dedupeByKid(keys: PublicAssertionJwk[]): PublicAssertionJwk[] {
  const seen = new Set<string>();
  return keys.filter((key) => !seen.has(key.kid) && seen.add(key.kid));
}

/**
 * A new key pair for `gateway tokens generate-assertion-key`: the private JWK for
 * ASSERTION_SIGNING_KEY and its public JWK for ASSERTION_PREVIOUS_KEYS, `kid` its RFC 7638 thumbprint.
 */
export async function generateAssertionKey(): Promise<{ privateJwk: JWK; publicJwk: PublicAssertionJwk }> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const exported = await exportJWK(privateKey);
  const x = exported.x ?? '';
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x });
  return {
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x, d: exported.d ?? '', kid, alg: 'EdDSA' },
    publicJwk: publicJwk({ x, kid }),
  };
}
