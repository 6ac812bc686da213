// npm run audit:query -- [--service ID] [--user UUID] [--action A] [--failures | --successes] [--since ISO] [--until ISO] [--limit N] [--cursor C]
import { queryAudit } from '../src/audit/query.ts';
import { parseFlags, runCommand, UsageError } from './lib/cli.ts';
import { withOperatorDatabase } from './lib/operator-database.ts';

const usage =
  'npm run audit:query -- [--service <id>] [--user <uuid>] [--action <verify|github_token|session_exchange|session_revoke>] ' +
  '[--failures|--successes] [--since <ISO time>] [--until <ISO time>] [--limit <1-500>] [--cursor <from the last page>] [--json]';

const date = (value: string | undefined, name: string) => {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new UsageError(`--${name} must be a date and time, e.g. 2026-11-24T08:00:00Z.\nUsage: ${usage}`);
  return parsed;
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
  const page = await withOperatorDatabase(({ db }) =>
    queryAudit(db, {
      ...(flags.service ? { service: flags.service } : {}),
      ...(flags.user ? { userId: flags.user } : {}),
      ...(flags.action ? { action: flags.action } : {}),
      ...(flags.failures ? { success: false } : flags.successes ? { success: true } : {}),
      ...(flags.since ? { since: date(flags.since, 'since') } : {}),
      ...(flags.until ? { until: date(flags.until, 'until') } : {}),
      ...(flags.cursor ? { cursor: flags.cursor } : {}),
      limit: Number(flags.limit),
    }),
  );
  if (flags.json) {
    console.log(JSON.stringify(page, null, 2));
    return 0;
  }
  for (const entry of page.entries) {
    console.log(
      `${entry.at.toISOString()}  ${(entry.service ?? '(unknown key)').padEnd(20)} ${entry.action.padEnd(16)} ${entry.success ? 'ok  ' : 'FAIL'} ${entry.code ?? ''}  ${entry.userId ?? ''}  ${entry.ipAddress ?? ''}  ${entry.requestId ?? ''}`,
    );
  }
  console.log(
    page.nextCursor
      ? `\nMore: npm run audit:query -- --cursor ${page.nextCursor} (same filters)`
      : `\n${page.entries.length} entries.`,
  );
  return 0;
});
