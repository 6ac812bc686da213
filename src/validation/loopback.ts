/**
 * Traffic that never leaves the machine: where plain http and ws:// are allowed (the stand-in
 * GitHub, the local bridge, `wrangler dev`, a service's development return address). One
 * definition for the Worker and the scripts, so what the configuration accepts is what the dev
 * stack and the stand-in treat as local.
 */

/** localhost, 127.x.x.x or [::1] (a URL's `hostname`, so IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** https anywhere, or http to a loopback host: an address secrets may travel to. */
export function isHttpsOrLoopbackHttp(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}
