import { env } from 'cloudflare:test';

/** One loopback events receiver (test/support/events-receiver.ts), driven from a Worker test. */
export interface EventsReceiver {
  url: string;
  /** Every request it got, in order: headers (lower-case names) and the raw body. */
  received(): Promise<{ headers: Record<string, string>; body: string }[]>;
  /** What it answers from now on: a status, a Location, or holding each request (`hang`) until `release`. */
  answer(answer: { status: number; location?: string; hang?: boolean }): Promise<void>;
  release(): Promise<void>;
  /** Its port closed (connections refused), then open again on the same port. */
  close(): Promise<void>;
  open(): Promise<void>;
}

async function control(path: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(`${env.TEST_EVENTS_RECEIVERS}${path}`, init);
  if (!response.ok) throw new Error(`events receiver control ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function newEventsReceiver(): Promise<EventsReceiver> {
  const { id, url } = (await control('/receivers', { method: 'POST' })) as { id: string; url: string };
  const post = async (action: string) => {
    await control(`/receivers/${id}/${action}`, { method: 'POST' });
  };
  return {
    url,
    received: () =>
      control(`/receivers/${id}/received`) as Promise<{ headers: Record<string, string>; body: string }[]>,
    answer: async (answer) => {
      await control(`/receivers/${id}/answer`, { method: 'PUT', body: JSON.stringify(answer) });
    },
    release: () => post('release'),
    close: () => post('close'),
    open: () => post('open'),
  };
}
