import type { Verdict } from './types.ts';

/**
 * The gateway's documented staleness bound for verify (`VERIFY_CACHE_SECONDS`, docs/api.md "How
 * fresh is the answer?"): a client never keeps a verdict longer.
 */
export const MAX_CACHE_SECONDS = 10;
/** Enough for a busy service; the oldest entry goes first past it, so memory stays bounded. */
const MAX_ENTRIES = 10_000;

/** Verdicts by the session or user id they answered, each kept for at most `seconds`. */
export class VerifyCache {
  readonly seconds: number;
  private readonly entries = new Map<string, { verdict: Verdict; until: number }>();
  private readonly now: () => number;

  constructor(seconds: number, now: () => number) {
    this.seconds = Math.max(0, Math.min(MAX_CACHE_SECONDS, Number.isFinite(seconds) ? seconds : 0));
    this.now = now;
  }

  get(key: string): Verdict | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > this.now()) return entry.verdict;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, verdict: Verdict): void {
    if (this.seconds === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { verdict, until: this.now() + this.seconds * 1000 });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
