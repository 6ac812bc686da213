import * as z from 'zod';

/**
 * STANDING_ACCESS_SECONDS: how long after a service's latest session for a person expired it may
 * still fetch their GitHub token by user id (0: not past the session; at most 180 days). One
 * schema for the Worker's config (src/config.ts) and the operator command that grants standing
 * access (`gateway services grant-standing-access`), so both read the same bounds and default.
 */
export const standingAccessSeconds = z.coerce.number().int().min(0).max(15_552_000).default(2_592_000);
