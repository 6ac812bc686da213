/**
 * Events the gateway pushes to a service (docs/api.md, "Events pushed to your service"), checked
 * as the Standard Webhooks specification says: HMAC-SHA256 over `<id>.<timestamp>.<body>`, a
 * timestamp within five minutes of this clock, and an id not seen before. WebCrypto only.
 */

/** How far `webhook-timestamp` may be from this clock, either way (the specification's 5 minutes). */
export const EVENT_TOLERANCE_SECONDS = 300;
/** Ids kept by the default replay store at most; the oldest goes first past it, so memory stays bounded. */
export const MAX_REMEMBERED_EVENTS = 10_000;
/**
 * The largest body read by default (256 KiB): far above any event the gateway sends, and read
 * before its signature can be checked, so an unsigned flood cannot make the process hold more.
 */
export const MAX_EVENT_BODY_BYTES = 256 * 1024;

export const SESSION_ENDED_REASONS = [
  'signed_out',
  'signed_out_everywhere',
  'signed_out_by_operator',
  'revoked',
  'standing_access_expired',
  'code_reused',
] as const;
export const ADMISSION_ENDED_REASONS = ['not_whitelisted', 'not_a_member', 'membership_unverified'] as const;
/**
 * The reasons this version knows; a newer gateway may send others (`string & {}` keeps the known
 * ones suggested while taking any), and the event still means what its type says.
 */
export type SessionEndedReason = (typeof SESSION_ENDED_REASONS)[number] | (string & {});
export type AdmissionEndedReason = (typeof ADMISSION_ENDED_REASONS)[number] | (string & {});

/** The person an event is about. */
export interface EventPerson {
  id: string;
  github_id: string;
  login: string | null;
}

/** Sessions of this service ended: drop them (their `sid`s) from whatever trusts them. */
export interface SessionEndedEvent {
  type: 'session.ended';
  /** When it happened, ISO 8601 (UTC). */
  timestamp: string;
  data: { user: EventPerson; session_ids: string[]; reason: SessionEndedReason };
}

/** The person is no longer admitted: every session of theirs is refused by verify now. */
export interface AdmissionEndedEvent {
  type: 'admission.ended';
  timestamp: string;
  data: { user: EventPerson; reason: AdmissionEndedReason };
}

export type GatewayEvent = SessionEndedEvent | AdmissionEndedEvent;

export type EventRefusal =
  | 'missing_headers'
  | 'bad_signature'
  | 'timestamp_out_of_range'
  | 'replayed'
  | 'malformed_body'
  | 'body_too_large';

/**
 * A verified delivery: `event` is null for a type this version does not know (a newer gateway's),
 * which is signed and fresh all the same: acknowledge it, and skip it by its `type`.
 */
export type EventCheck =
  | { ok: true; id: string; type: string; event: GatewayEvent | null }
  | { ok: false; reason: EventRefusal };

/**
 * Where the ids of verified events are kept, so that the same message is not taken twice. The
 * default keeps them in this process's memory; a service with several instances passes its own
 * (a KV namespace, a database table) so that they share it.
 */
export interface EventReplayStore {
  /** Whether this id was remembered and is still within its time. */
  has(id: string): boolean | Promise<boolean>;
  /** Remember the id until `until` (past it a replay is refused by its timestamp anyway). */
  remember(id: string, until: Date): void | Promise<void>;
}

/** The raw delivery: a Request (its body is read), or its headers and body as received. */
export type EventDelivery =
  | Request
  | { headers: Headers | Record<string, string | undefined>; body: string | Uint8Array };

export interface VerifyEventOptions {
  /** Where verified ids are kept (default: one store in this module's memory, shared by every call). */
  replays?: EventReplayStore;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Bodies longer than this are refused unread (`body_too_large`; default MAX_EVENT_BODY_BYTES). */
  maxBodyBytes?: number;
}

/**
 * Ids in memory, each until its message's timestamp plus the tolerance: a replay of that very
 * message is then refused by its timestamp. At most `max` of them, the oldest going first.
 */
export class MemoryReplayStore implements EventReplayStore {
  private readonly ids = new Map<string, number>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: { max?: number; now?: () => number } = {}) {
    this.max = options.max ?? MAX_REMEMBERED_EVENTS;
    this.now = options.now ?? Date.now;
  }

  has(id: string): boolean {
    const until = this.ids.get(id);
    return until !== undefined && until > this.now();
  }

  remember(id: string, until: Date): void {
    this.prune();
    this.ids.delete(id);
    while (this.ids.size >= this.max) {
      const oldest = this.ids.keys().next();
      if (oldest.done) break;
      this.ids.delete(oldest.value);
    }
    this.ids.set(id, until.getTime());
  }

  get size(): number {
    return this.ids.size;
  }

  /** Drops the ids whose time passed, from the oldest, stopping at the first still within it. */
  private prune(): void {
    const now = this.now();
    for (const [id, until] of this.ids) {
      if (until > now) break;
      this.ids.delete(id);
    }
  }
}

const defaultReplays = new MemoryReplayStore();

/**
 * Checks a delivery and, when it is good, remembers its id (a second delivery of it answers
 * `replayed`). Checks, in order: the three `webhook-*` headers are there (`missing_headers`), one
 * `v1,` signature matches one of `secrets` (`bad_signature`; other versions are ignored), the
 * timestamp is whole seconds within 5 minutes of now (`timestamp_out_of_range`), the id was not
 * taken before (`replayed`), the body is an event (`malformed_body`: not JSON, no `type`, or a type
 * this version knows without its fields); a type it does not know is `event: null`.
 * A secret that is not `whsec_` and base64 throws a TypeError: a setting to fix, not a delivery to refuse.
 */
export async function verifyEvent(
  delivery: EventDelivery,
  secrets: string | readonly string[],
  options: VerifyEventOptions = {},
): Promise<EventCheck> {
  const replays = options.replays ?? defaultReplays;
  const checked = await checkEvent(delivery, secrets, {
    replays,
    now: options.now ?? Date.now,
    maxBodyBytes: options.maxBodyBytes ?? MAX_EVENT_BODY_BYTES,
  });
  if (checked.ok) await replays.remember(checked.id, checked.rememberUntil);
  return checked.ok ? { ok: true, id: checked.id, type: checked.type, event: checked.event } : checked;
}

/** verifyEvent without remembering the id: the route helpers remember it once onEvent succeeded. */
export async function checkEvent(
  delivery: EventDelivery,
  secrets: string | readonly string[],
  options: { replays: EventReplayStore; now: () => number; maxBodyBytes: number },
): Promise<
  | { ok: true; id: string; type: string; event: GatewayEvent | null; rememberUntil: Date }
  | { ok: false; reason: EventRefusal }
> {
  const keys = await hmacKeys(secrets);
  const headers = delivery.headers instanceof Headers ? delivery.headers : new Headers(definedOf(delivery.headers));
  const id = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const signatures = headers.get('webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing_headers' };
  const body = await bodyOf(delivery, options.maxBodyBytes);
  if (body === null) return { ok: false, reason: 'body_too_large' };

  // The signature first: nothing about an unsigned message is looked at, or answered.
  const signed = concat(new TextEncoder().encode(`${id}.${timestamp}.`), body);
  // Space-separated, as the specification says; a header sent twice arrives joined by ", ", so a
  // comma ending a part is that join, never part of a signature (base64 has no comma).
  const offered = signatures
    .split(/\s+/)
    .map((part) => part.replace(/,$/, ''))
    .filter((part) => part.startsWith('v1,'))
    .map((part) => base64Bytes(part.slice(3)))
    .filter((bytes): bytes is Uint8Array<ArrayBuffer> => bytes !== null);
  let matched = false;
  for (const key of keys) {
    const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, signed));
    // Every pair is compared, in constant time: how long this takes says nothing of which one matched.
    for (const candidate of offered) matched = constantTimeEqual(expected, candidate) || matched;
  }
  if (!matched) return { ok: false, reason: 'bad_signature' };

  const seconds = /^\d{1,15}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  const now = options.now();
  if (!(Math.abs(now / 1000 - seconds) <= EVENT_TOLERANCE_SECONDS))
    return { ok: false, reason: 'timestamp_out_of_range' };
  if (await options.replays.has(id)) return { ok: false, reason: 'replayed' };

  const parsed = eventOf(body);
  if (parsed === null) return { ok: false, reason: 'malformed_body' };
  const rememberUntil = new Date((seconds + EVENT_TOLERANCE_SECONDS) * 1000 + 1000);
  return { ok: true, id, type: parsed.type, event: parsed.event, rememberUntil };
}

/** The key bytes of `whsec_…` secrets; a TypeError for anything else (never echoing the secret). */
export function eventSecretBytes(secrets: string | readonly string[]): Uint8Array<ArrayBuffer>[] {
  const list = typeof secrets === 'string' ? [secrets] : [...secrets];
  if (list.length === 0) throw new TypeError('Checking events needs at least one events secret (whsec_…).');
  return list.map((secret, index) => {
    const bytes = typeof secret === 'string' && secret.startsWith('whsec_') ? base64Bytes(secret.slice(6)) : null;
    if (bytes === null || bytes.length === 0) {
      throw new TypeError(
        `Events secret ${index + 1} is not a Standard Webhooks secret: it should be whsec_ and base64, as the gateway printed it.`,
      );
    }
    return bytes;
  });
}

function hmacKeys(secrets: string | readonly string[]): Promise<CryptoKey[]> {
  return Promise.all(
    eventSecretBytes(secrets).map((bytes) =>
      crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
    ),
  );
}

/** The body's type, and the event when it is one this version knows; null when it is not an event at all. */
function eventOf(body: Uint8Array): { type: string; event: GatewayEvent | null } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    return null;
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string' || parsed.type === '') return null;
  const { type } = parsed;
  if (type !== 'session.ended' && type !== 'admission.ended') return { type, event: null };
  if (typeof parsed.timestamp !== 'string' || !isObject(parsed.data)) return null;
  const { data } = parsed;
  const user = personOf(data.user);
  if (user === null || typeof data.reason !== 'string') return null;
  if (type === 'session.ended') {
    const ids = data.session_ids;
    if (!Array.isArray(ids) || !ids.every((one) => typeof one === 'string')) return null;
    return {
      type,
      event: { type, timestamp: parsed.timestamp, data: { user, session_ids: ids, reason: data.reason } },
    };
  }
  return { type, event: { type, timestamp: parsed.timestamp, data: { user, reason: data.reason } } };
}

function personOf(value: unknown): EventPerson | null {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.github_id !== 'string') return null;
  if (value.login !== null && typeof value.login !== 'string') return null;
  return { id: value.id, github_id: value.github_id, login: value.login };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw body, or null past `limit` bytes: a Request's is read only that far (its Content-Length first). */
async function bodyOf(delivery: EventDelivery, limit: number): Promise<Uint8Array | null> {
  if (!(delivery instanceof Request)) {
    const body = typeof delivery.body === 'string' ? new TextEncoder().encode(delivery.body) : delivery.body;
    return body.length > limit ? null : body;
  }
  const declared = Number(delivery.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await delivery.body?.cancel();
    return null;
  }
  if (!delivery.body) return new Uint8Array(0);
  const reader = delivery.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

function definedOf(headers: Record<string, string | undefined>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) defined[name] = value;
  return defined;
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(head.length + tail.length);
  all.set(head);
  all.set(tail, head.length);
  return all;
}

/** Standard base64 (padded or not); null for anything else. */
function base64Bytes(encoded: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  try {
    return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
