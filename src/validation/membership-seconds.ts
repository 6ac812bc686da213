import * as z from 'zod';

/**
 * MEMBERSHIP_FRESH_SECONDS and MEMBERSHIP_HARD_SECONDS, with the bounds and defaults of the
 * Worker's config (src/config.ts), for the operator commands that read them from the environment
 * or .dev.vars (`gateway users list` decides admission as verify does, so it needs the hard bound).
 */
export const membershipFreshSeconds = z.coerce.number().int().min(0).max(86_400).default(600);
export const membershipHardSeconds = z.coerce.number().int().min(60).max(604_800).default(3_600);
