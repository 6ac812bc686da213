/**
 * Whether a state-changing request comes from the gateway's own pages. Browsers that send
 * Sec-Fetch-Site say so directly; for older ones the Origin must be this origin (or absent, as
 * from a non-browser client, which carries no cookie a forgery could ride on).
 */
export function isSameOriginRequest(fetchSite: string | undefined, origin: string | undefined, url: string): boolean {
  if (fetchSite !== undefined) return fetchSite === 'same-origin' || fetchSite === 'none';
  return origin === undefined || origin === new URL(url).origin;
}
