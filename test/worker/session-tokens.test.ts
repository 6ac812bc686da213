import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { loadSessionKeys } from '../../src/crypto/session-keys.ts';
import { signSessionToken, verifySessionToken } from '../../src/crypto/session-tokens.ts';
import { generateMasterKey } from '../../src/crypto/token-cipher.ts';

const sessionId = '3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c';

describe('session tokens', () => {
  it('verify while unexpired, with the claims they were signed with', async () => {
    const { tokenSigning } = await loadSessionKeys(env.SESSION_SECRET);
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + 3600) * 1000);
    const token = await signSessionToken({ sessionId, expiresAt }, tokenSigning);
    expect(token).toMatch(/^gws_[0-9a-f-]{36}\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await verifySessionToken(token, tokenSigning)).toEqual({ ok: true, claims: { sessionId, expiresAt } });
  });

  it('never verify once expired', async () => {
    const { tokenSigning } = await loadSessionKeys(env.SESSION_SECRET);
    const token = await signSessionToken({ sessionId, expiresAt: new Date(Date.now() + 60_000) }, tokenSigning);
    expect(await verifySessionToken(token, tokenSigning, new Date(Date.now() + 61_000))).toEqual({
      ok: false,
      code: 'expired_session',
    });
  });

  it('refuse a changed id or expiry, another secret, and garbage', async () => {
    const { tokenSigning } = await loadSessionKeys(env.SESSION_SECRET);
    const token = await signSessionToken({ sessionId, expiresAt: new Date(Date.now() + 60_000) }, tokenSigning);
    const [, , signature] = token.split('.');
    const longer = `gws_${sessionId}.${Math.floor(Date.now() / 1000) + 999_999}.${signature}`;
    const otherSession = token.replace(sessionId, '00000000-0000-4000-8000-000000000000');
    const otherSecret = (await loadSessionKeys(generateMasterKey())).tokenSigning;
    expect((await verifySessionToken(longer, tokenSigning)).ok).toBe(false);
    expect((await verifySessionToken(otherSession, tokenSigning)).ok).toBe(false);
    expect(await verifySessionToken(token, otherSecret)).toEqual({ ok: false, code: 'invalid_session' });
    expect(await verifySessionToken('gws_not-a-token', tokenSigning)).toEqual({ ok: false, code: 'malformed_session' });
  });
});

describe('the cached token check of the verify path', () => {
  it('skips the HMAC for a token it has verified, but never past the token’s own expiry', async () => {
    const { cachedTokenCheck } = await import('../../src/verify/cached-lookups.ts');
    const { tokenSigning } = await loadSessionKeys(env.SESSION_SECRET);
    const otherKey = (await loadSessionKeys(generateMasterKey())).tokenSigning;
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + 60) * 1000);
    const token = await signSessionToken({ sessionId, expiresAt }, tokenSigning);
    const check = cachedTokenCheck(30);
    expect((await check(token, [tokenSigning], new Date())).ok).toBe(true);
    // Cached: the (wrong) key is not consulted again within the bound...
    expect((await check(token, [otherKey], new Date())).ok).toBe(true);
    // ...but the expiry is.
    expect(await check(token, [tokenSigning], new Date(expiresAt.getTime() + 1000))).toEqual({
      ok: false,
      code: 'expired_session',
    });
    // A token that failed is never cached.
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await check(forged, [tokenSigning], new Date())).ok).toBe(false);
    expect((await check(forged, [tokenSigning], new Date())).ok).toBe(false);
  });
});

describe('rotating SESSION_SECRET', () => {
  it('accepts tokens and sign-in cookies of a previous secret listed in SESSION_SECRET_PREVIOUS, and signs only with the new one', async () => {
    const { openAttempt, sealAttempt } = await import('../../src/sign-in/attempt.ts');
    const oldSecret = generateMasterKey();
    const newSecret = generateMasterKey();
    const before = await loadSessionKeys(oldSecret);
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + 60) * 1000);
    const oldToken = await signSessionToken({ sessionId, expiresAt }, before.tokenSigning);
    const attempt = {
      state: 's',
      verifier: 'v'.repeat(43),
      githubRedirectUri: 'https://gateway.test/auth/github/callback',
      serviceId: null,
      redirectUri: null,
      serviceState: null,
      codeChallenge: null,
      retryPath: '/login',
      issuedAt: Date.now(),
    };
    const oldCookie = await sealAttempt(attempt, before.cookieSealing);

    const during = await loadSessionKeys(newSecret, ` ${oldSecret} ,`);
    expect((await verifySessionToken(oldToken, during.tokenChecking)).ok).toBe(true);
    expect(await openAttempt(oldCookie, during.cookieOpening)).toEqual(attempt);
    // New tokens are signed with the new secret only.
    const newToken = await signSessionToken({ sessionId, expiresAt }, during.tokenSigning);
    expect((await verifySessionToken(newToken, before.tokenChecking)).ok).toBe(false);

    // Once the old secret is dropped from the list, what it signed is refused.
    const after = await loadSessionKeys(newSecret);
    expect(await verifySessionToken(oldToken, after.tokenChecking)).toEqual({ ok: false, code: 'invalid_session' });
    expect(await openAttempt(oldCookie, after.cookieOpening)).toBeNull();
    expect((await verifySessionToken(newToken, after.tokenChecking)).ok).toBe(true);
  });
});
