import { secureHeaders } from 'hono/secure-headers';

/**
 * Headers for every response. JSON answers need no content at all, so the default policy forbids
 * everything; HTML pages set their own, narrower-than-usual CSP where they render.
 */
export const apiSecurityHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] },
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    crossOriginResourcePolicy: 'same-origin',
    strictTransportSecurity: 'max-age=63072000; includeSubDomains',
  });
