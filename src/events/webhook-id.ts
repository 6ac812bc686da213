/** The `webhook-id` of an event: `msg_` and the 32 hex digits of its row id, the same on every attempt. */
export function webhookId(eventId: string): string {
  return `msg_${eventId.replaceAll('-', '').toLowerCase()}`;
}
