import * as z from 'zod';
import { type AdmissionDecision, decideAdmission, type MembershipBounds } from '../admission/decide.ts';
import { type RecheckDeps, recheckMembership } from '../admission/recheck-membership.ts';

import { findUserById } from '../db/users.ts';
import { sealedCookieKind } from './sealed-cookie.ts';

/**
 * A sign-in that ended with the person known but not admitted, kept in a sealed, HttpOnly cookie
 * so that the pending page is a page of its own (GET /pending): reloading it asks again rather
 * than replaying GitHub's callback. It names who signed in and where they were going; it grants
 * nothing (continuing is a new sign-in at GitHub from `retryPath`).
 */
export const PENDING_COOKIE = '__Host-gw_pending';
/** Long enough to ask an operator and reload; the service's own state may well be older by then. */
export const PENDING_TTL_SECONDS = 3600;
const PURPOSE = 'sign-in-pending';

const pendingSchema = z.object({
  userId: z.string(),
  login: z.string().nullable(),
  serviceId: z.string().nullable(),
  redirectUri: z.string().nullable(),
  serviceState: z.string().nullable(),
  retryPath: z.string().startsWith('/login'),
  issuedAt: z.number(),
});

export type PendingSignIn = z.infer<typeof pendingSchema>;

const cookieKind = sealedCookieKind({ purpose: PURPOSE, schema: pendingSchema, ttlSeconds: PENDING_TTL_SECONDS });

export const sealPending = cookieKind.seal;
/** The value, or null if the cookie is not one this gateway sealed or it is too old. */
export const openPending = cookieKind.open;

/**
 * Whether the pending person is admitted now: their whitelist flag and login rule as they are; an
 * org or team rule's membership, asked of GitHub again with their stored token when the last
 * check is older than the re-check's retry interval (single-flight, src/admission/recheck-membership.ts).
 * Null when the person is gone (their row deleted).
 */
export async function decidePending(
  deps: RecheckDeps & { membership: MembershipBounds },
  pending: PendingSignIn,
): Promise<AdmissionDecision | null> {
  const person = await findUserById(deps.db, pending.userId);
  if (!person) return null;
  const decision = decideAdmission(person.admission, deps.membership);
  if (decision.admitted || person.admission.membershipRules === 0) return decision;
  await recheckMembership(deps, person.id, person.admission.attemptedAt);
  const after = await findUserById(deps.db, pending.userId);
  return after ? decideAdmission(after.admission, deps.membership) : null;
}
