import type { Context } from 'hono';
import type { AppEnv } from '../http/context.ts';
import { callingService } from '../http/service-auth.ts';
import { type ChangeActor, type ChangeOrigin, requestOrigin } from './origin.ts';

/** An admin API call's origin: the calling service, the request's address and user agent. */
export function adminCallOrigin(c: Context<AppEnv>): ChangeOrigin {
  return requestOrigin({ kind: 'service', serviceId: callingService(c).id }, c.req, c.var.requestId);
}

/** A browser's request (sign-in, sign-out): the person, once known, and where they came from. */
export function browserOrigin(c: Context<AppEnv>, userId: string | null): ChangeOrigin {
  const actor: ChangeActor = { kind: 'person', userId };
  return requestOrigin(actor, c.req, c.var.requestId);
}
