import type { AuditActor, AuditEntry } from './query.ts';

/**
 * An audit entry as the admin API answers it and `gateway audit query --json` prints it
 * (docs/api.md): snake_case names, ISO times.
 */
export function auditEntryJson(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    kind: entry.kind,
    service: entry.service,
    user_id: entry.userId,
    user_login: entry.userLogin,
    action: entry.action,
    success: entry.success,
    code: entry.code,
    request_id: entry.requestId,
    ip_address: entry.ipAddress,
    user_agent: entry.userAgent,
    actor: entry.actor && actorJson(entry.actor),
    host: entry.host,
    details: entry.details,
  };
}

function actorJson(actor: AuditActor) {
  switch (actor.kind) {
    case 'operator':
      return { kind: actor.kind, name: actor.name };
    case 'service':
      return { kind: actor.kind, service: actor.service };
    case 'person':
      return { kind: actor.kind, user_id: actor.userId, user_login: actor.userLogin };
    case 'gateway':
      return { kind: actor.kind };
  }
}
