import { escapeControl, hasControlCharacter } from './control-characters.ts';
import { isLoopbackHost } from './loopback.ts';
import { CONTROL_CHARACTER_RULE } from './operator-input.ts';

/** The longest events URL the gateway keeps (docs/api.md, "Events pushed to your service"). */
export const MAX_EVENTS_URL_LENGTH = 2048;

/**
 * The URL as the gateway keeps and POSTs to it (the URL parser's normal form: what `fetch` would
 * send, so a listing shows exactly where events go), or why `url` cannot be a service's events URL,
 * as one sentence an operator can act on. The rule of docs/api.md: `https://`, or `http://` on localhost, 127.x.x.x or [::1] (for
 * development), no user name or password, no fragment, at most 2048 characters. The events carry
 * the service's signature and a person's ids, so they travel over TLS to wherever the URL names;
 * credentials in a URL would be kept and listed in plain text, and a fragment is never sent.
 */
export function checkEventsUrl(url: string): { url: string } | { problem: string } {
  const problem = (text: string) => ({ problem: text });
  // Quoted escaped: a command prints the message, and the URL parser drops some control characters silently.
  const quoted = `"${escapeControl(url.length > 200 ? `${url.slice(0, 200)}…` : url)}"`;
  if (url.length === 0) return problem('The events URL is empty; give an https:// URL.');
  if (url.length > MAX_EVENTS_URL_LENGTH)
    return problem(`The events URL is ${url.length} characters; it is at most ${MAX_EVENTS_URL_LENGTH}.`);
  if (hasControlCharacter(url)) return problem(`The events URL ${quoted} ${CONTROL_CHARACTER_RULE}.`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem(
      `The events URL ${quoted} is not an absolute URL; give one such as https://billing.example.com/gateway/events.`,
    );
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)))
    return problem(`The events URL ${quoted} must use https (http is allowed on localhost, 127.0.0.1 and [::1] only).`);
  if (parsed.username || parsed.password)
    return problem(`The events URL ${quoted} must not contain a user name or password.`);
  if (parsed.hash || url.includes('#')) return problem(`The events URL ${quoted} must not have a fragment.`);
  const normal = parsed.toString();
  if (normal.length > MAX_EVENTS_URL_LENGTH)
    return problem(
      `The events URL is ${normal.length} characters written out; it is at most ${MAX_EVENTS_URL_LENGTH}.`,
    );
  return { url: normal };
}
