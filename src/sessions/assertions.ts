import { SignJWT } from 'jose';
import type { Config } from '../config.ts';
import { type AssertionKeys, loadAssertionKeys } from '../crypto/assertion-keys.ts';

/**
 * Assertions: short-lived JWTs (EdDSA, Ed25519) saying who holds a session of a service's, which a
 * service verifies offline against /.well-known/jwks.json (docs/api.md, "Assertions verified offline").
 */

export interface AssertionFacts {
  /** The service's identifier (`aud`). */
  audience: string;
  scopes: readonly string[];
  person: { id: string; githubId: string; login: string | null };
  sessionId: string;
  /** The session's end: an assertion never outlives it. */
  sessionExpiresAt: Date;
}

/** The key that signs, and the gateway's issuer identifier (`iss`, as on every return to a service). */
export interface AssertionSigner {
  issuer: string;
  kid: string;
  privateKey: CryptoKey;
}

export interface IssuedAssertion {
  token: string;
  expiresAt: Date;
}

/** The configured keys, imported once per isolate. */
export function assertionKeys(config: Config): Promise<AssertionKeys> {
  return loadAssertionKeys(config.ASSERTION_SIGNING_KEY, config.ASSERTION_PREVIOUS_KEYS);
}

/**
 * What an assertion needs before anything is spent (a login code used up): the signing key, and
 * the issuer. Null when the gateway has no signing key. A key without an issuer is the deployment's
 * fault (PUBLIC_URL unset off loopback), answered as internal_error with the cause in the log.
 */
export async function assertionSigner(config: Config, issuer: string | null): Promise<AssertionSigner | null> {
  const { signing } = await assertionKeys(config);
  if (signing === null) return null;
  if (issuer === null) {
    // A plain Error: the log gets this operator's message, the service the generic internal_error.
    throw new Error('ASSERTION_SIGNING_KEY is set but PUBLIC_URL is not: assertions need it as their issuer (iss).');
  }
  return { issuer, ...signing };
}

/** Signs one assertion: `exp` is `iat` + ASSERTION_TTL_SECONDS, or the session's end if sooner. */
export async function signAssertion(
  signer: AssertionSigner,
  facts: AssertionFacts,
  ttlSeconds: number,
  now = new Date(),
): Promise<IssuedAssertion> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expiresAt = Math.min(issuedAt + ttlSeconds, Math.floor(facts.sessionExpiresAt.getTime() / 1000));
  const token = await new SignJWT({
    github_id: facts.person.githubId,
    login: facts.person.login,
    scope: facts.scopes.join(' '),
    sid: facts.sessionId,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ: 'JWT' })
    .setIssuer(signer.issuer)
    .setSubject(facts.person.id)
    .setAudience(facts.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(crypto.randomUUID())
    .sign(signer.privateKey);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** The assertion as the API answers it. */
export function assertionJson(assertion: IssuedAssertion | null): { token: string; expires_at: string } | null {
  return assertion && { token: assertion.token, expires_at: assertion.expiresAt.toISOString() };
}
