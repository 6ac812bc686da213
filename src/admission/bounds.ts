import type { Config } from '../config.ts';
import type { MembershipBounds } from './decide.ts';

/** The membership bounds a deployment set. */
export function membershipBounds(
  config: Pick<Config, 'MEMBERSHIP_FRESH_SECONDS' | 'MEMBERSHIP_HARD_SECONDS'>,
): MembershipBounds {
  return { freshSeconds: config.MEMBERSHIP_FRESH_SECONDS, hardSeconds: config.MEMBERSHIP_HARD_SECONDS };
}
