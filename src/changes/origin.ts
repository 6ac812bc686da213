/**
 * Who made a change and from where: an operator command (its operator's name and host), an admin
 * API call (the calling service, the request's address and user agent), or a person signing in or
 * out (their user id, once known).
 */
export type ChangeActor =
  | { kind: 'operator'; name: string }
  | { kind: 'service'; serviceId: string }
  | { kind: 'person'; userId: string | null }
  /** The gateway itself: a membership re-check that found a person no longer admitted. */
  | { kind: 'gateway' };

export interface ChangeOrigin {
  actor: ChangeActor;
  /** HTTP: the client's address (CF-Connecting-IP), user agent and the request id. */
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** A command: the host it ran on. */
  host: string | null;
  /** The way in, when the actor alone does not tell it: a person acting in the operator console. Kept in the details. */
  via?: 'console';
}

/** An HTTP request's origin, from its headers (the same ones the access rows record). */
export function requestOrigin(
  actor: ChangeActor,
  request: { header(name: string): string | undefined },
  requestId: string,
): ChangeOrigin {
  return {
    actor,
    ipAddress: request.header('CF-Connecting-IP') ?? null,
    userAgent: request.header('User-Agent') ?? null,
    requestId,
    host: null,
  };
}
