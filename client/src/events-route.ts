import {
  checkEvent,
  type EventRefusal,
  type EventReplayStore,
  eventSecretBytes,
  type GatewayEvent,
  MAX_EVENT_BODY_BYTES,
  MemoryReplayStore,
} from './events.ts';

export interface GatewayEventsOptions {
  /** The events secret (`whsec_…`), or several while you rotate it on your side: any one may sign. */
  secret: string | readonly string[];
  /**
   * Called once per verified event of a type this version knows, before the answer (one of a newer
   * type is acknowledged without it): keep it quick (the gateway waits 10 s).
   * When it throws, the error propagates (your framework answers 500), the id is not remembered,
   * and the gateway sends the event again. Two copies of one event arriving at the same moment
   * (a retry crossing a slow answer) can both reach it: make it idempotent.
   */
  onEvent: (event: GatewayEvent, delivery: { id: string; request: Request }) => void | Promise<void>;
  /** Where the ids of events taken are kept (default: this handler's own memory). */
  replays?: EventReplayStore;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Bodies longer than this are refused unread with 413 (default MAX_EVENT_BODY_BYTES, 256 KiB). */
  maxBodyBytes?: number;
}

/** The answer to each refusal: 401 for what is not the gateway's (or not now), 400 for what is not a delivery. */
const REFUSALS: Record<Exclude<EventRefusal, 'replayed'>, { status: number; message: string }> = {
  missing_headers: { status: 400, message: 'webhook-id, webhook-timestamp and webhook-signature are all needed.' },
  bad_signature: { status: 401, message: 'No webhook-signature matches the events secret.' },
  timestamp_out_of_range: { status: 401, message: 'webhook-timestamp is more than 5 minutes from this clock.' },
  malformed_body: { status: 400, message: 'The body is not an event: JSON with a type, and the fields of its type.' },
  body_too_large: { status: 413, message: 'The body is longer than this route reads.' },
};

/**
 * The events route for any framework that speaks Request and Response: 204 once `onEvent` took a
 * verified event; 204 without calling it again for an id already taken (so the gateway stops
 * sending it); otherwise 400 or 401 `{ error: { code, message } }`, the code being the refusal.
 */
export function createGatewayEventsHandler(options: GatewayEventsOptions): (request: Request) => Promise<Response> {
  // A wrong secret is a setting to fix: refused here, at start, rather than at every delivery.
  eventSecretBytes(options.secret);
  const replays = options.replays ?? new MemoryReplayStore({ now: options.now });
  const now = options.now ?? Date.now;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_EVENT_BODY_BYTES;
  return async (request) => {
    if (request.method !== 'POST') {
      return Response.json(
        { error: { code: 'method_not_allowed', message: 'Events are delivered with POST.' } },
        { status: 405, headers: { Allow: 'POST' } },
      );
    }
    const checked = await checkEvent(request, options.secret, { replays, now, maxBodyBytes });
    if (!checked.ok) {
      if (checked.reason === 'replayed') return new Response(null, { status: 204 });
      const { status, message } = REFUSALS[checked.reason];
      return Response.json({ error: { code: checked.reason, message } }, { status });
    }
    // A type this version does not know (a newer gateway's) is taken and skipped, not refused:
    // refusing it would have the gateway send it again for a day and report the service failing.
    if (checked.event !== null) await options.onEvent(checked.event, { id: checked.id, request });
    await replays.remember(checked.id, checked.rememberUntil);
    return new Response(null, { status: 204 });
  };
}
