/**
 * When a failed event is sent again: 5 seconds, 5 minutes, 30 minutes, 2, 5, 10 and 10 hours
 * after the attempt before (the Standard Webhooks schedule, docs/api.md); after the 8th attempt
 * it is given up.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The next attempt's time after `attempts` failed ones (the last at `at`); null: give up. */
export function nextAttemptAfter(attempts: number, at: Date): Date | null {
  const delay = RETRY_DELAYS_MS[attempts - 1];
  return delay === undefined ? null : new Date(at.getTime() + delay);
}
