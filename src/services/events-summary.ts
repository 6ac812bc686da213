/** A service's events as every listing shows them; null when it has no events URL. */
export interface EventsSummary {
  url: string;
  failingSince: Date | null;
  /** Its events neither delivered nor given up. */
  undelivered: number;
}

export function eventsSummaryOf(row: {
  eventsUrl: string | null;
  eventsFailingSince: Date | null;
  eventsUndelivered: number;
}): EventsSummary | null {
  if (row.eventsUrl === null) return null;
  return { url: row.eventsUrl, failingSince: row.eventsFailingSince, undelivered: row.eventsUndelivered };
}

/** JSON of docs/api.md: `{url, failing_since, undelivered}`. */
export function eventsJson(events: EventsSummary) {
  return {
    url: events.url,
    failing_since: events.failingSince?.toISOString() ?? null,
    undelivered: events.undelivered,
  };
}
