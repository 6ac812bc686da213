/**
 * The gateway's public assertion keys (`GET /.well-known/jwks.json`), fetched with WebCrypto
 * alone and kept in this process: at most the answer's `max-age`, never more than 300 s, and
 * fetched again for a `kid` it does not list at most once a minute, so a token naming a made-up
 * `kid` cannot make every request fetch the key set.
 */

/** The longest a key set is kept (the gateway answers `max-age=300`): a key rotated out leaves by then. */
export const MAX_JWKS_SECONDS = 300;
/** Kept this long when the answer names no `max-age` (a proxy dropped it). */
const DEFAULT_JWKS_SECONDS = 60;
/** At most one fetch in this long for a `kid` the kept key set does not list. */
export const UNKNOWN_KID_REFETCH_SECONDS = 60;
/** After a fetch that failed, the next is tried no sooner than this (meanwhile: the online verify). */
export const JWKS_RETRY_SECONDS = 10;

export interface KeySetOptions {
  url: URL;
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
}

interface KeptSet {
  keys: Map<string, CryptoKey>;
  until: number;
}

/** What looking a `kid` up found: its key, no such key, or no key set to look in. */
export type KeyLookup = { key: CryptoKey } | { missing: 'unknown_key' | 'jwks_unavailable' };

export class KeySet {
  private readonly options: KeySetOptions;
  private kept: KeptSet | null = null;
  /** One fetch at a time: concurrent verifies share it. */
  private inFlight: Promise<KeptSet | null> | null = null;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(options: KeySetOptions) {
    this.options = options;
  }

  async keyFor(kid: string): Promise<KeyLookup> {
    const now = this.options.now();
    // A key set that just failed is not asked again on every request: a down gateway gets the
    // online verifies only.
    if (this.kept === null && now - this.failedAt < JWKS_RETRY_SECONDS * 1000) return { missing: 'jwks_unavailable' };
    let set = this.kept !== null && this.kept.until > now ? this.kept : await this.refresh();
    if (set === null) return { missing: 'jwks_unavailable' };
    let key = set.keys.get(kid);
    if (key === undefined && this.options.now() - this.lastFetchAt >= UNKNOWN_KID_REFETCH_SECONDS * 1000) {
      // A key just rotated in: the kept set predates it.
      set = await this.refresh();
      if (set === null) return { missing: 'jwks_unavailable' };
      key = set.keys.get(kid);
    }
    return key === undefined ? { missing: 'unknown_key' } : { key };
  }

  private refresh(): Promise<KeptSet | null> {
    if (this.inFlight === null) {
      this.lastFetchAt = this.options.now();
      this.inFlight = this.fetchSet().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  /** The key set as fetched now, or null when it cannot be had (the caller falls back online). */
  private async fetchSet(): Promise<KeptSet | null> {
    let response: Response;
    let body: unknown;
    try {
      response = await this.options.fetch(this.options.url, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) return this.failed();
      body = await response.json();
    } catch {
      return this.failed();
    }
    const keys = new Map<string, CryptoKey>();
    const listed = (body as { keys?: unknown } | null)?.keys;
    for (const jwk of Array.isArray(listed) ? listed : []) {
      if (!isEd25519PublicJwk(jwk) || keys.has(jwk.kid)) continue;
      try {
        keys.set(jwk.kid, await importEd25519(jwk.x));
      } catch {
        // A key WebCrypto refuses verifies nothing: its kid stays unknown.
      }
    }
    const seconds = cacheSeconds(response.headers.get('cache-control'));
    this.kept = { keys, until: this.options.now() + seconds * 1000 };
    return this.kept;
  }

  /** No key set: an old one is not used past its time (a key rotated out must stop verifying). */
  private failed(): null {
    this.kept = null;
    this.failedAt = this.options.now();
    return null;
  }
}

function isEd25519PublicJwk(value: unknown): value is { x: string; kid: string } {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    typeof jwk.kid === 'string' &&
    (jwk.alg === undefined || jwk.alg === 'EdDSA') &&
    (jwk.use === undefined || jwk.use === 'sig')
  );
}

function importEd25519(x: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x }, { name: 'Ed25519' }, false, ['verify']);
}

/** The answer's `max-age`, capped at MAX_JWKS_SECONDS; DEFAULT_JWKS_SECONDS when it names none. */
export function cacheSeconds(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl ?? '');
  if (/(?:^|,)\s*no-store\s*(?:,|$)/i.test(cacheControl ?? '')) return 0;
  const seconds = match?.[1] === undefined ? DEFAULT_JWKS_SECONDS : Number(match[1]);
  return Math.min(MAX_JWKS_SECONDS, seconds);
}
