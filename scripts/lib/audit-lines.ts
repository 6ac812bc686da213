import type { AuditEntry } from '../../src/audit/query.ts';
import { escapeControl } from '../../src/validation/control-characters.ts';

/**
 * One audit row as one line of `audit:query`. Every field is escaped: the action, the user agent
 * and the rest come from requests anyone can send, and whatever the server stores in them, a
 * printed row can neither start a line of its own nor send the terminal an escape sequence.
 */
export function formatAuditEntry(entry: AuditEntry): string {
  const field = (value: string | null, fallback = '') => escapeControl(value ?? fallback);
  return [
    entry.at.toISOString(),
    ' ',
    field(entry.service, '(unknown key)').padEnd(20),
    ' ',
    field(entry.action).padEnd(16),
    ' ',
    entry.success ? 'ok  ' : 'FAIL',
    ' ',
    field(entry.code),
    '  ',
    field(entry.userId),
    '  ',
    field(entry.ipAddress),
    '  ',
    field(entry.requestId),
    ...(entry.userAgent ? ['  ', field(entry.userAgent)] : []),
  ].join('');
}
