import { type Bindings, type Config, readConfig } from '../config.ts';

/** The operator's words on every page (GATEWAY_NAME, GATEWAY_LOGO_URL, GATEWAY_CONTACT). */
export interface Branding {
  /** In every page's title and header. */
  name: string;
  /** An https image shown before the name in the header; the pages' CSP allows exactly its origin. */
  logoUrl: string | null;
  /** One line for a person who is not let in (the pending page, the signed-out landing). */
  contact: string | null;
}

/** What a page shows when the configuration is not read (it always is once a request gets this far). */
export const DEFAULT_BRANDING: Branding = { name: 'Gateway', logoUrl: null, contact: null };

/** The branding a deployment's settings give, for the page functions. */
export function brandingOf(config: Config | undefined): Branding {
  if (!config) return DEFAULT_BRANDING;
  return {
    name: config.GATEWAY_NAME,
    logoUrl: config.GATEWAY_LOGO_URL ?? null,
    contact: config.GATEWAY_CONTACT ?? null,
  };
}

/** The same, from the Worker's bindings: for answers made before the request context is set up (a 405). */
export function brandingOfBindings(env: Bindings): Branding {
  const read = readConfig(env);
  return brandingOf(read.ok ? read.config : undefined);
}
