import type { AuditActor, AuditEntry } from '../../../src/audit/query.ts';
import { escapeControl } from '../../../src/validation/control-characters.ts';

/** The audit table's columns, in the order `auditCells` gives them. */
export const AUDIT_HEADERS = [
  'TIME',
  'KIND',
  'SERVICE',
  'ACTION',
  'RESULT',
  'CODE',
  'BY',
  'USER',
  'LOGIN',
  'IP',
  'HOST',
  'REQUEST',
  'DETAILS',
  'USER AGENT',
];

/**
 * One audit row as the cells of a line of `gateway audit query`. Every field is escaped: the
 * action, the user agent and the rest come from requests anyone can send, and whatever the server
 * stores in them, a printed row can neither start a line of its own nor send the terminal an
 * escape sequence. The user agent comes last, unpadded.
 */
export function auditCells(entry: AuditEntry): string[] {
  const field = (value: string | null, fallback = '') => escapeControl(value ?? fallback);
  return [
    entry.at.toISOString(),
    entry.kind,
    // An access row without a service is a key that matched none; a change may concern no service.
    field(entry.service, entry.kind === 'access' ? '(unknown key)' : ''),
    field(entry.action),
    entry.success ? 'ok' : 'FAIL',
    field(entry.code),
    entry.actor ? escapeControl(actorText(entry.actor)) : '',
    field(entry.userId),
    // From the database (the old system's rows too): escaped like the rest.
    field(entry.userLogin),
    field(entry.ipAddress),
    field(entry.host),
    field(entry.requestId),
    entry.details ? escapeControl(detailsText(entry.details)) : '',
    entry.userAgent ? quotedUserAgent(entry.userAgent) : '',
  ];
}

/** Who made a change: `operator alice@laptop`, `service billing`, `person octocat`. */
function actorText(actor: AuditActor): string {
  switch (actor.kind) {
    case 'operator':
      return `operator ${actor.name ?? '?'}`;
    case 'service':
      return `service ${actor.service ?? '?'}`;
    case 'person':
      return `person ${actor.userLogin ?? actor.userId ?? '(unknown)'}`;
    case 'gateway':
      return 'the gateway';
  }
}

/** A change's details on one line: `scopes=admin,users:verify grace_seconds=3600`. */
function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(' ')
    .replace(/\s+/g, ' ');
}

/** The most of a user agent a row shows: enough to tell clients apart, too little to pose as a row. */
const USER_AGENT_SHOWN = 120;

/**
 * The user agent, last on the line, in quotes, whitespace runs shown as one space and cut at
 * USER_AGENT_SHOWN: padded with spaces, a long one would wrap onto the next screen line and pass
 * for a row of its own.
 */
function quotedUserAgent(userAgent: string): string {
  const collapsed = escapeControl(userAgent).replace(/\s+/g, ' ').replaceAll('"', '\\"');
  const shown = collapsed.length > USER_AGENT_SHOWN ? `${collapsed.slice(0, USER_AGENT_SHOWN)}…` : collapsed;
  return `"${shown}"`;
}
