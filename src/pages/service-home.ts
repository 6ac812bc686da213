import { isHttpsOrLoopbackHttp } from '../validation/loopback.ts';

/**
 * Where a service's name on the landing links: the origin of its first registered return
 * address. Not the address itself: that is its OAuth callback, which answers an error when opened
 * without a code and state; its origin is the service's own site. Null (the name without a link)
 * when it has none, or when a row older than the registration rules holds something that is not
 * https (or http on loopback), so a page never links to another scheme.
 */
export function serviceHome(redirectUris: readonly string[]): string | null {
  const [first] = redirectUris;
  if (first === undefined || !URL.canParse(first)) return null;
  const url = new URL(first);
  return isHttpsOrLoopbackHttp(url) ? url.origin : null;
}
