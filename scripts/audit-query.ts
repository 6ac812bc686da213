// npm run audit:query -- [--service ID] [--user UUID] [--action A] [--failures | --successes] [--since ISO] [--until ISO] [--limit N] [--cursor C]
import { queryAudit } from '../src/audit/query.ts';
import { UUID_PATTERN } from '../src/db/ids.ts';
import { timestamp } from '../src/validation/operator-input.ts';
import { formatAuditEntry } from './lib/operator/audit-lines.ts';
import {
  jsonForTerminal,
  numberFlag,
  parseFlags,
  runCommand,
  terminalMessage,
  UsageError,
} from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const usage =
  'npm run audit:query -- [--service <id>] [--user <uuid>] [--action <verify|github_token|session_exchange|session_revoke>] ' +
  '[--failures|--successes] [--since <ISO time>] [--until <ISO time>] [--limit <1-500>] [--cursor <from the last page>] [--json]';

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

await runCommand(async () => {
  const flags = parseFlags(
    {
      service: { type: 'string' },
      user: { type: 'string' },
      action: { type: 'string' },
      failures: { type: 'boolean', default: false },
      successes: { type: 'boolean', default: false },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string', default: '50' },
      cursor: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  if (flags.user !== undefined && !UUID_PATTERN.test(flags.user.toLowerCase()))
    throw new UsageError(
      `--user takes a person's id, a UUID such as 0b6f3a1e-7c2d-4e8f-9a10-2b3c4d5e6f70.\nUsage: ${usage}`,
    );
  const limit = numberFlag(flags.limit, { name: 'limit', min: 1, max: 500, unit: 'entries', usage });
  const since = time(flags.since, 'since');
  const until = time(flags.until, 'until');
  const page = await withOperatorDatabase(({ db }) =>
    queryAudit(db, {
      ...(flags.service ? { service: flags.service } : {}),
      ...(flags.user ? { userId: flags.user } : {}),
      ...(flags.action ? { action: flags.action } : {}),
      ...(flags.failures ? { success: false } : flags.successes ? { success: true } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(flags.cursor ? { cursor: flags.cursor } : {}),
      limit,
    }),
  );
  if (flags.json) {
    console.log(jsonForTerminal(page));
    return 0;
  }
  for (const entry of page.entries) console.log(formatAuditEntry(entry));
  console.log(
    page.nextCursor
      ? `\nMore: npm run audit:query -- --cursor ${terminalMessage(page.nextCursor)} (same filters)`
      : `\n${page.entries.length} entries.`,
  );
  return 0;
});
