import type { Command } from 'commander';
import { auditEntryJson } from '../../../../src/audit/entry-json.ts';
import { queryAudit } from '../../../../src/audit/query.ts';
import { userIdForLogin } from '../../../../src/audit/user-ref.ts';
import { AUDIT_KINDS, type AuditKind } from '../../../../src/changes/actions.ts';
import { UUID_PATTERN } from '../../../../src/db/ids.ts';
import { GITHUB_LOGIN_PATTERN } from '../../../../src/validation/github-identity.ts';
import { timestamp } from '../../../../src/validation/operator-input.ts';
import { AUDIT_HEADERS, auditCells } from '../audit-lines.ts';
import { jsonForTerminal, numberFlag, runCommand, terminalMessage, UsageError } from '../cli.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { count, formatTable, usageLine } from './shared.ts';

interface AuditFlags {
  kind?: string;
  service?: string;
  user?: string;
  action?: string;
  failures: boolean;
  successes: boolean;
  since?: string;
  until?: string;
  limit: string;
  cursor?: string;
  json: boolean;
}

/** `gateway audit query`: the audit log, newest first, paged. */
export function addAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description("the audit log: services' calls, changes made by operators and the admin API, sign-ins and sign-outs");
  audit
    .command('query')
    .description('the audit log, newest first, paged')
    .usage(
      `[--kind <${AUDIT_KINDS.join('|')}>] [--service <id>] [--user <uuid|github-login>] [--action <action>] ` +
        '[--failures|--successes] [--since <ISO time>] [--until <ISO time>] [--limit <1-500>] [--cursor <from the last page>] [--json]',
    )
    .option(
      '--kind <kind>',
      "access (services' calls), change (operator commands, the admin API) or sign-in (sign-ins and sign-outs)",
    )
    .option('--service <id>', 'calls made with this service key; changes and sign-ins concerning it or made by it')
    .option('--user <uuid|login>', "calls about this person: the gateway's user id (a UUID) or their GitHub login")
    .option(
      '--action <action>',
      'verify, github_token, ..., services:rotate-key, users:whitelist, sign-in:pending, ...',
    )
    .option('--failures', 'refused calls only', false)
    .option('--successes', 'accepted calls only', false)
    .option('--since <ISO time>', 'at or after this time, e.g. 2026-11-24T08:00:00Z')
    .option('--until <ISO time>', 'before this time')
    .option('--limit <1-500>', 'entries per page', '50')
    .option('--cursor <cursor>', 'the next page, as the last page named it')
    .option('--json', "print JSON (the admin API's fields: entries, next_cursor)", false)
    .action((flags: AuditFlags, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        /** The same rule as the admin API's filters: ISO 8601 with seconds and a zone, 1970 to 9999. */
        const time = (value: string | undefined, name: string) => {
          if (value === undefined) return undefined;
          const parsed = timestamp.safeParse(value);
          if (!parsed.success)
            throw new UsageError(
              `--${name} takes an ISO 8601 time with seconds and a zone, from 1970 to 9999, e.g. 2026-11-24T08:00:00Z.\nUsage: ${usage}`,
            );
          return new Date(parsed.data);
        };
        const user = flags.user;
        const userIsId = user !== undefined && UUID_PATTERN.test(user.toLowerCase());
        if (user !== undefined && !userIsId && !GITHUB_LOGIN_PATTERN.test(user))
          throw new UsageError(
            `--user takes a person's id, a UUID such as 0b6f3a1e-7c2d-4e8f-9a10-2b3c4d5e6f70, or their GitHub login.\nUsage: ${usage}`,
          );
        const kind = flags.kind;
        if (kind !== undefined && !isAuditKind(kind))
          throw new UsageError(
            `--kind takes ${AUDIT_KINDS.join(', ')}; got "${terminalMessage(kind)}".\nUsage: ${usage}`,
          );
        const limit = numberFlag(flags.limit, { name: 'limit', min: 1, max: 500, unit: 'entries', usage });
        const since = time(flags.since, 'since');
        const until = time(flags.until, 'until');
        const page = await withOperatorDatabase(async ({ db }) =>
          queryAudit(db, {
            ...(kind ? { kinds: [kind] } : {}),
            ...(flags.service ? { service: flags.service } : {}),
            // A login is resolved to the one person carrying it (refused when none or several do).
            ...(user === undefined ? {} : { userId: userIsId ? user : await userIdForLogin(db, user) }),
            ...(flags.action ? { action: flags.action } : {}),
            ...(flags.failures ? { success: false } : flags.successes ? { success: true } : {}),
            ...(since ? { since } : {}),
            ...(until ? { until } : {}),
            ...(flags.cursor ? { cursor: flags.cursor } : {}),
            limit,
          }),
        );
        if (flags.json) {
          console.log(jsonForTerminal({ entries: page.entries.map(auditEntryJson), next_cursor: page.nextCursor }));
          return 0;
        }
        if (page.entries.length > 0) console.log(formatTable(AUDIT_HEADERS, page.entries.map(auditCells)));
        console.log(
          page.nextCursor
            ? `\nMore: gateway audit query --cursor ${terminalMessage(page.nextCursor)} (same filters)`
            : `\n${count(page.entries.length, 'entry', 'entries')}.`,
        );
        return 0;
      }),
    );
}

function isAuditKind(value: string): value is AuditKind {
  return (AUDIT_KINDS as readonly string[]).includes(value);
}
