import type { ServiceSummary } from './admin.ts';
import { eventsJson } from './events-summary.ts';

/**
 * A service as the admin API answers it and `gateway services list --json` prints it
 * (docs/api.md): snake_case names, ISO times, never a key or its hash.
 */
export function serviceJson(service: ServiceSummary) {
  return {
    id: service.identifier,
    name: service.displayName,
    scopes: service.scopes,
    redirect_uris: service.redirectUris,
    active: service.isActive,
    legacy_key: service.legacyKey,
    previous_key_expires_at: service.previousKeyExpiresAt?.toISOString() ?? null,
    last_used_at: service.lastUsedAt?.toISOString() ?? null,
    created_at: service.createdAt.toISOString(),
    events: service.events ? eventsJson(service.events) : null,
  };
}
