import {
  type AssertedClaims,
  type AssertionFallbackReason,
  type AssertionRefusal,
  checkAssertion,
} from './assertion.ts';
import type { GatewayClientError } from './errors.ts';
import { KeySet } from './jwks.ts';
import { constantTimeEqual, randomToken, s256Challenge } from './pkce.ts';
import { postJson, type TransportOptions } from './transport.ts';
import type {
  ExchangeErrorCode,
  ExchangeResponse,
  GitHubToken,
  GitHubTokenErrorCode,
  RevokeErrorCode,
  RevokeResponse,
  SignInError,
  Verdict,
  VerifyErrorCode,
} from './types.ts';
import { VerifyCache } from './verify-cache.ts';

export interface GatewayClientOptions {
  /** The gateway's address, e.g. `https://gateway.example.com`. */
  gatewayUrl: string | URL;
  /** Your service's id, as the operator registered it. */
  serviceId: string;
  /** Your service key (`gwk_…`): server-side only. */
  key: string;
  /** The fetch to call the gateway with (default: the global one). */
  fetch?: typeof fetch;
  /** One deadline for a call and its retries, in milliseconds (default 10000). */
  timeoutMs?: number;
  /** Retries after a 429 or 503 with Retry-After, at most (default 2). */
  retries?: number;
  /** Seconds a verify verdict is reused in this process (default 0: off; at most 10). */
  cacheSeconds?: number;
  /** The clock the verify cache, assertion times and the key set's cache read (default Date.now). */
  now?: () => number;
  /** The `iss` assertions must carry: the gateway's PUBLIC_URL (default the origin of `gatewayUrl`). */
  issuer?: string;
}

/** A sign-in link, and what to keep (e.g. in a short-lived HttpOnly cookie) until the callback. */
export interface SignInLink {
  url: string;
  state: string;
  codeVerifier: string;
}

export interface CallbackChecks {
  /** The state and verifier signInLink gave, as you kept them. */
  state: string;
  codeVerifier: string;
  /** The redirect URI the sign-in link named. */
  redirectUri: string;
}

/** A sign-in that ended with a session. */
export interface SignedIn extends ExchangeResponse {
  ok: true;
}

/**
 * A sign-in that did not: the gateway sent the person back with an `error` (docs/api.md "When the
 * sign-in does not succeed"), or the callback is not this browser's sign-in (`state_mismatch`:
 * a forged or stale link; `missing_code`: neither a code nor an error).
 */
export type SignInFailure =
  | {
      ok: false;
      reason: 'refused';
      error: SignInError | (string & {});
      errorDescription: string | null;
      gatewayError: string | null;
    }
  | { ok: false; reason: 'state_mismatch' | 'missing_code' };

/**
 * What `verifyAssertion` found. `source: 'assertion'`: decided offline, by the assertion alone
 * (valid, or refused: `bad_signature`, `wrong_issuer`, `wrong_audience`, `malformed_assertion`;
 * or, without a session to fall back with, one of the fallback reasons). `source: 'online'`: the
 * assertion could not say (`fallback` names why) and `POST /v1/verify` with the session answered.
 */
export type AssertionVerdict =
  | ({ valid: true; source: 'assertion'; code: 'ok' } & AssertedClaims)
  | { valid: false; source: 'assertion'; code: AssertionRefusal | AssertionFallbackReason }
  | (Verdict & { source: 'online'; fallback: AssertionFallbackReason });

export type PersonRef = { session: string; userId?: never } | { userId: string; session?: never };

export interface GatewayClient {
  readonly serviceId: string;
  signInLink(options: { redirectUri: string }): Promise<SignInLink>;
  handleCallback(callbackUrl: string | URL, checks: CallbackChecks): Promise<SignedIn | SignInFailure>;
  exchange(code: string, options: { redirectUri: string; codeVerifier?: string }): Promise<ExchangeResponse>;
  verify(person: PersonRef): Promise<Verdict>;
  /**
   * Checks an assertion offline; past its expiry, on a key the key set does not list (after one
   * fetch of it again), or with no key set to be had, asks `POST /v1/verify` with `session` when
   * given. A bad signature, issuer or audience is refused, never sent online.
   */
  verifyAssertion(token: string, options?: { session?: string }): Promise<AssertionVerdict>;
  githubToken(person: PersonRef): Promise<GitHubToken>;
  revoke(session: string): Promise<RevokeResponse>;
}

export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const base = new URL(options.gatewayUrl);
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  const transport: TransportOptions = {
    gatewayUrl: base,
    key: options.key,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    timeoutMs: options.timeoutMs ?? 10_000,
    retries: Math.max(0, Math.floor(options.retries ?? 2)),
  };
  const now = options.now ?? Date.now;
  const cache = new VerifyCache(options.cacheSeconds ?? 0, now);
  const keys = new KeySet({
    url: new URL('.well-known/jwks.json', base),
    fetch: transport.fetch,
    timeoutMs: transport.timeoutMs,
    now,
  });
  const issuer = options.issuer ?? base.origin;
  const bodyOf = (person: PersonRef) =>
    person.session !== undefined ? { session: person.session } : { user_id: person.userId };
  const cacheKey = (person: PersonRef) =>
    person.session !== undefined ? `session:${person.session}` : `user:${person.userId}`;

  const exchange: GatewayClient['exchange'] = (code, { redirectUri, codeVerifier }) =>
    // Single use: a second exchange of a code that the first one used revokes the session it
    // issued, so only a 429 (answered before the exchange runs) is ever sent again.
    postJson<ExchangeResponse>(
      transport,
      'v1/sessions/exchange',
      { code, redirect_uri: redirectUri, ...(codeVerifier === undefined ? {} : { code_verifier: codeVerifier }) },
      'before-handler-only',
    );

  const verify: GatewayClient['verify'] = async (person) => {
    const key = cacheKey(person);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const verdict = await postJson<Verdict>(transport, 'v1/verify', bodyOf(person), 'reads');
    cache.set(key, verdict);
    return verdict;
  };

  return {
    serviceId: options.serviceId,

    async signInLink({ redirectUri }) {
      const state = randomToken();
      const codeVerifier = randomToken();
      const url = new URL('login', base);
      url.searchParams.set('service', options.serviceId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      url.searchParams.set('code_challenge', await s256Challenge(codeVerifier));
      url.searchParams.set('code_challenge_method', 'S256');
      return { url: url.href, state, codeVerifier };
    },

    async handleCallback(callbackUrl, checks) {
      const query = new URL(callbackUrl).searchParams;
      // The state first, on failures too: an error redirect not of this browser's sign-in says nothing.
      // No state kept (no cookie: another browser) never matches, not even a callback without one.
      const state = query.get('state');
      if (checks.state === '' || state === null || !constantTimeEqual(state, checks.state)) {
        return { ok: false, reason: 'state_mismatch' };
      }
      const error = query.get('error');
      if (error !== null) {
        return {
          ok: false,
          reason: 'refused',
          error,
          errorDescription: query.get('error_description'),
          gatewayError: query.get('gateway_error'),
        };
      }
      const code = query.get('code');
      if (code === null) return { ok: false, reason: 'missing_code' };
      const answer = await exchange(code, { redirectUri: checks.redirectUri, codeVerifier: checks.codeVerifier });
      return { ok: true, ...answer };
    },

    exchange,

    verify,

    async verifyAssertion(token, { session } = {}) {
      const checked = await checkAssertion(token, { issuer, audience: options.serviceId, keys, now });
      if (checked.ok) return { valid: true, source: 'assertion', code: 'ok', ...checked.claims };
      if ('refused' in checked) return { valid: false, source: 'assertion', code: checked.refused };
      if (session === undefined) return { valid: false, source: 'assertion', code: checked.fallback };
      return { ...(await verify({ session })), source: 'online', fallback: checked.fallback };
    },

    githubToken(person) {
      // A read for the caller: a refresh it may cause is done once however often it is asked.
      return postJson<GitHubToken>(transport, 'v1/github-token', bodyOf(person), 'reads');
    },

    async revoke(session) {
      cache.delete(`session:${session}`);
      // Not sent again after a 503: a revoke that did run would then answer `revoked: false`.
      const answer = await postJson<RevokeResponse>(
        transport,
        'v1/sessions/revoke',
        { session },
        'before-handler-only',
      );
      cache.delete(`session:${session}`);
      return answer;
    },
  };
}

/** The error codes each call can throw, for narrowing a caught GatewayClientError. */
export type ErrorOf = {
  exchange: GatewayClientError<ExchangeErrorCode>;
  verify: GatewayClientError<VerifyErrorCode>;
  githubToken: GatewayClientError<GitHubTokenErrorCode>;
  revoke: GatewayClientError<RevokeErrorCode>;
};
