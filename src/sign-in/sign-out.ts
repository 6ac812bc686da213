import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database } from '../db/client.ts';
import { UUID_PATTERN } from '../db/ids.ts';
import { listServiceAccess, revokePersonSessions, revokeSession, type SessionWithUser } from '../db/sessions.ts';
import { emitSessionEnded } from '../events/emit.ts';
import { forgetSession } from '../verify/cached-lookups.ts';

/** What the landing's sign-out buttons ask for: one service's access, everywhere, or just here. */
export interface SignOutRequest {
  /** "Sign out of <service>": the service's id, as the landing lists it. */
  service: string | null;
  everywhere: boolean;
}

export type SignedOut =
  /** One service's access ended (the id asked for, if it was one): back to the list, which confirms it. */
  | { kind: 'left_service'; serviceId: string | null }
  /** Signed out of the gateway (and, everywhere, of the services that still had access). */
  | { kind: 'signed_out'; servicesSignedOut: number };

/**
 * Signs a person out. `session` is the browser cookie's own session, whitelisted or not:
 * un-whitelisting someone must not stop their sign-out from ending what they hold
 * (docs/security.md, incident sequence). Every revoked session is also dropped from this
 * isolate's verify cache. The services whose sessions ended get a `session.ended` event, written
 * in the sign-out's transaction.
 */
export async function signOut(
  deps: {
    db: Database;
    standingAccessSeconds: number;
    /** Where the request came from, as this person: each sign-out is recorded. */
    origin: (userId: string) => ChangeOrigin;
    /** Starts the delivery of the events the sign-out wrote (after the response: it never waits for a service). */
    deliver: (eventIds: string[]) => void;
  },
  session: SessionWithUser | null,
  request: SignOutRequest,
): Promise<SignedOut> {
  // "Sign out of <service>": every session of this person's at that service, live or expired
  // (which also ends its standing access), then back to the list.
  if (request.service !== null) {
    let left: string | null = null;
    if (session && UUID_PATTERN.test(request.service)) {
      await signPersonOutOfService(deps, session.user.id, request.service);
      left = request.service;
    }
    return { kind: 'left_service', serviceId: left };
  }
  if (!session) return { kind: 'signed_out', servicesSignedOut: 0 };
  if (!request.everywhere) {
    await revokeSession(deps.db, session.id, null);
    forgetSession(session.id);
    await recordChange(deps.db, deps.origin(session.user.id), {
      action: 'sign-out:here',
      subjectUserId: session.user.id,
      details: { sessions_ended: 1 },
    });
    return { kind: 'signed_out', servicesSignedOut: 0 };
  }
  const servicesSignedOut = await signPersonOutEverywhere(deps, session.user.id);
  return { kind: 'signed_out', servicesSignedOut };
}

type SignOutDeps = Parameters<typeof signOut>[0] & {
  /** Who ended them: the person (default), or an operator in the console (the events' reason says so). */
  endedBy?: 'person' | 'operator';
};

/**
 * Ends every session of this person's at one service (a UUID), live or expired (which also ends
 * its standing access), with its change record and `session.ended` events in one transaction.
 * The person's own "Sign out of <service>", and the operator console's for them. Returns how many
 * sessions ended: 0 (a service id that names none of theirs) is not recorded.
 */
export async function signPersonOutOfService(deps: SignOutDeps, userId: string, serviceId: string): Promise<number> {
  const { revoked, events } = await deps.db.transaction(async (tx) => {
    const revoked = await revokePersonSessions(tx, userId, { serviceId });
    // A service id that names no service (a hand-made form) revoked nothing and is no one's: not recorded.
    if (revoked.length === 0) return { revoked, events: [] };
    await recordChange(tx, deps.origin(userId), {
      action: 'sign-out:service',
      subjectUserId: userId,
      subjectServiceId: serviceId,
      details: { sessions_ended: revoked.length },
    });
    const reason = deps.endedBy === 'operator' ? 'signed_out_by_operator' : 'signed_out';
    const events = await emitSessionEnded(tx, { userId, sessions: revoked, reason });
    return { revoked, events };
  });
  for (const { id } of revoked) forgetSession(id);
  deps.deliver(events);
  return revoked.length;
}

/**
 * Ends every session of this person's, live or expired: at every service, and here, with its
 * change record and events. Returns the count of what the landing listed: the services that
 * still had access.
 */
export async function signPersonOutEverywhere(deps: SignOutDeps, userId: string): Promise<number> {
  const servicesSignedOut = (await listServiceAccess(deps.db, userId, deps.standingAccessSeconds)).length;
  const { revoked, events } = await deps.db.transaction(async (tx) => {
    const revoked = await revokePersonSessions(tx, userId, 'all');
    await recordChange(tx, deps.origin(userId), {
      action: 'sign-out:everywhere',
      subjectUserId: userId,
      details: { sessions_ended: revoked.length, services_signed_out: servicesSignedOut },
    });
    const reason = deps.endedBy === 'operator' ? 'signed_out_by_operator' : 'signed_out_everywhere';
    const events = await emitSessionEnded(tx, { userId, sessions: revoked, reason });
    return { revoked, events };
  });
  for (const { id } of revoked) forgetSession(id);
  deps.deliver(events);
  return servicesSignedOut;
}
