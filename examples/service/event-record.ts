import type { GatewayEvent } from '../../client/src/index.ts';

/** One verified event as the service received it, for its events page. */
export interface ReceivedEvent {
  id: string;
  receivedAt: Date;
  event: GatewayEvent;
}

/** Enough for a page; the oldest goes first past it, like the ended sessions below. */
const RECENT_EVENTS = 50;
const REMEMBERED_SESSIONS = 10_000;

/**
 * What the example learns from the gateway's events (docs/api.md, "Events pushed to your
 * service"): the sessions that ended, which it then refuses itself, before asking verify, and the
 * recent events, which its /events page shows. It knows whose sessions are whose from its own
 * sign-ins and verifies, so that an `admission.ended` ends each one it saw of that person.
 * Memory only: a restart forgets it, and verify on each request still refuses what ended.
 */
export class EventRecord {
  private readonly recent: ReceivedEvent[] = [];
  private readonly ended = new Map<string, string>();
  private readonly sessionsOfUser = new Map<string, Set<string>>();

  /** A session this service holds for a person (its id: the part of `gws_<id>.…`). */
  sawSession(userId: string, sessionId: string): void {
    const sessions = this.sessionsOfUser.get(userId) ?? new Set<string>();
    sessions.add(sessionId);
    this.sessionsOfUser.delete(userId);
    this.sessionsOfUser.set(userId, sessions);
    if (this.sessionsOfUser.size > REMEMBERED_SESSIONS)
      this.sessionsOfUser.delete(this.sessionsOfUser.keys().next().value ?? '');
  }

  /** Why the gateway said this session ended, or null when it did not. */
  endedBecause(sessionId: string): string | null {
    return this.ended.get(sessionId) ?? null;
  }

  take(id: string, event: GatewayEvent): void {
    this.recent.unshift({ id, receivedAt: new Date(), event });
    this.recent.length = Math.min(this.recent.length, RECENT_EVENTS);
    const sessions =
      event.type === 'session.ended'
        ? event.data.session_ids
        : [...(this.sessionsOfUser.get(event.data.user.id) ?? [])];
    for (const sessionId of sessions) {
      this.ended.delete(sessionId);
      this.ended.set(sessionId, event.data.reason);
      if (this.ended.size > REMEMBERED_SESSIONS) this.ended.delete(this.ended.keys().next().value ?? '');
    }
    if (event.type === 'admission.ended') this.sessionsOfUser.delete(event.data.user.id);
  }

  /** Newest first. */
  events(): readonly ReceivedEvent[] {
    return this.recent;
  }
}

/** A session token's id: `gws_<id>.<secret>` (the `sid` of its assertions); null for anything else. */
export function sessionIdOf(token: string): string | null {
  const match = /^gws_([^.]+)\./.exec(token);
  return match?.[1] ?? null;
}
