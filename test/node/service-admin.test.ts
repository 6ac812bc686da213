import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authenticateService } from '../../src/services/authenticate-service.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

const KEY = /\b(gwk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43})\b/;

async function register(url: string, id: string, extra: string[] = []): Promise<string> {
  const result = await runOperatorCommand('services-register', ['--id', id, '--name', id, ...extra], {
    DATABASE_URL: url,
  });
  expect(result.code).toBe(0);
  return KEY.exec(result.output)?.[1] ?? '';
}

/** C0 and C1 control characters in printed text, other than the line breaks between lines. */
const controlCharactersIn = (text: string) =>
  [...text].filter((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && char !== '\n') || (code >= 0x7f && code <= 0x9f);
  });

const authenticates = (url: string, key: string) =>
  withDatabaseHandle(
    url,
    async ({ db }) => (await authenticateService(db, { key, serviceIdentifier: null }, new Date())).ok,
  );

describe('operator commands for services', () => {
  it('rotate-key: the old key keeps working through the grace period, the new one at once; forced with grace 0 ends both', async () => {
    const url = await createDatabase({ migrated: true });
    const first = await register(url, 'rotating');
    const rotated = await runOperatorCommand('services-rotate-key', ['--id', 'rotating', '--grace-hours', '2'], {
      DATABASE_URL: url,
    });
    expect(rotated.code).toBe(0);
    const second = KEY.exec(rotated.output)?.[1] ?? '';
    expect(second).not.toBe(first);
    expect(rotated.output).toMatch(/The previous key keeps working until \d{4}-/);
    expect(await authenticates(url, first)).toBe(true);
    expect(await authenticates(url, second)).toBe(true);

    const again = await runOperatorCommand(
      'services-rotate-key',
      ['--id', 'rotating', '--grace-hours', '0', '--force'],
      {
        DATABASE_URL: url,
      },
    );
    const third = KEY.exec(again.output)?.[1] ?? '';
    expect(again.output).toContain('The previous key no longer works.');
    expect(await authenticates(url, first)).toBe(false);
    expect(await authenticates(url, second)).toBe(false);
    expect(await authenticates(url, third)).toBe(true);
  });

  it('rotate-key during a grace period is refused (exit 1), saying when it ends and how to force it; --force ends the older key', async () => {
    const url = await createDatabase({ migrated: true });
    const first = await register(url, 'twice');
    const rotate = (...extra: string[]) =>
      runOperatorCommand('services-rotate-key', ['--id', 'twice', ...extra], { DATABASE_URL: url });
    const rotated = await rotate('--grace-hours', '2');
    const second = KEY.exec(rotated.output)?.[1] ?? '';
    const endsAt = /keeps working until (\S+)\./.exec(rotated.output)?.[1] ?? '';
    expect(endsAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const refused = await rotate('--grace-hours', '24');
    expect(refused.code).toBe(1);
    expect(refused.output).not.toMatch(KEY);
    expect(refused.output).toContain(`its previous key works until ${endsAt}`);
    expect(refused.output).toContain('--force');
    // Nothing changed: the promise of the first rotation holds.
    expect(await authenticates(url, first)).toBe(true);
    expect(await authenticates(url, second)).toBe(true);

    const forced = await rotate('--grace-hours', '1', '--force');
    expect(forced.code).toBe(0);
    const third = KEY.exec(forced.output)?.[1] ?? '';
    expect(await authenticates(url, first)).toBe(false);
    expect(await authenticates(url, second)).toBe(true);
    expect(await authenticates(url, third)).toBe(true);
  });

  it.each(['', ' ', '1e-9', '0x18', '-1', '1.5', 'abc', '721', '100000'])(
    'rotate-key --grace-hours %j exits 2, naming the flag and what it takes, and rotates nothing',
    async (hours) => {
      const url = await createDatabase({ migrated: true });
      const key = await register(url, 'numbers');
      const result = await runOperatorCommand('services-rotate-key', ['--id', 'numbers', `--grace-hours=${hours}`], {
        DATABASE_URL: url,
      });
      expect(result.code).toBe(2);
      const [message] = result.output.trim().split('\n');
      expect(message).toBe(
        `--grace-hours takes a whole number of hours from 0 to 720, in plain decimal digits; got ${JSON.stringify(hours)}.`,
      );
      expect(result.output).not.toMatch(KEY);
      expect(await authenticates(url, key)).toBe(true);
    },
  );

  it('list prints a display name and return address planted with control characters escaped, on their own lines', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'planted', ['--redirect-uri', 'https://planted.example.com/cb']);
    // Written directly, as the old system or anyone with database access could have.
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`update service_registry
                        set display_name = ${'Evil\n  scopes: admin\u001b]0;pwned\u0007\u009b2J'},
                            redirect_uris = ${sql.param(['https://planted.example.com/cb\r\n  last used: never'])}::text[]
                      where service_identifier = 'planted'`),
    );
    const listed = await runOperatorCommand('services-list', [], { DATABASE_URL: url });
    expect(listed.code).toBe(0);
    const lines = listed.output.trim().split('\n');
    expect(lines).toHaveLength(4); // the header, the service, a blank line, the count
    expect(lines[0]).toMatch(/^ID +NAME +STATE +SCOPES +LAST USED +REDIRECT URIS +KEY$/);
    expect(lines[1]).toBe(
      'planted  Evil\\n  scopes: admin\\x1b]0;pwned\\x07\\u009b2J  active  users:verify  never      https://planted.example.com/cb\\r\\n  last used: never',
    );
    expect(lines[3]).toBe('1 service.');
    expect(controlCharactersIn(listed.output)).toEqual([]);
  });

  it('register refuses a display name with control characters, saying so', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand(
      'services-register',
      ['--id', 'named', '--name', 'Billing\n  scopes: admin'],
      {
        DATABASE_URL: url,
      },
    );
    expect(result.code).toBe(2);
    expect(result.output).toContain(
      'The display name must not contain control or invisible characters (U+0000-U+001F, U+007F-U+009F',
    );
    const listed = await runOperatorCommand('services-list', [], { DATABASE_URL: url });
    expect(listed.output).toContain('No services yet');
  });

  it('deactivate refuses the key, activate brings it back; list shows the state', async () => {
    const url = await createDatabase({ migrated: true });
    const key = await register(url, 'switch', ['--redirect-uri', 'https://switch.example.com/cb']);
    expect((await runOperatorCommand('services-deactivate', ['--id', 'switch'], { DATABASE_URL: url })).code).toBe(0);
    expect(await authenticates(url, key)).toBe(false);
    const listed = await runOperatorCommand('services-list', [], { DATABASE_URL: url });
    expect(listed.output).toMatch(/^switch +switch +DEACTIVATED /m);
    expect(listed.output).toMatch(/^switch .* https:\/\/switch\.example\.com\/cb$/m);
    expect(listed.output).not.toMatch(/gwk_|pbkdf2/);
    expect(
      (await runOperatorCommand('services-deactivate', ['--id', 'switch', '--activate'], { DATABASE_URL: url })).code,
    ).toBe(0);
    expect(await authenticates(url, key)).toBe(true);
  });

  it('update replaces scopes and return addresses, validating them', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'changing');
    const updated = await runOperatorCommand(
      'services-update',
      [
        '--id',
        'changing',
        '--scope',
        'users:verify',
        '--scope',
        'github:token',
        '--redirect-uri',
        'https://c.example.com/cb',
      ],
      { DATABASE_URL: url },
    );
    expect(updated.output).toContain(
      'changing: scopes users:verify, github:token; redirect URIs https://c.example.com/cb',
    );
    const refused = await runOperatorCommand(
      'services-update',
      ['--id', 'changing', '--redirect-uri', 'javascript:alert(1)'],
      {
        DATABASE_URL: url,
      },
    );
    expect(refused.code).toBe(2);
    const unknown = await runOperatorCommand('services-update', ['--id', 'nope', '--no-scopes'], { DATABASE_URL: url });
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('There is no service "nope"');
  });
});

describe('npm run audit:query', () => {
  it('filters and pages through the log newest first, with a cursor', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'audited');
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into service_audit_logs (id, service_id, action, success, failure_reason, metadata, created_at)
        select gen_random_uuid(), (select id from service_registry where service_identifier = 'audited'), 'verify',
               i % 3 <> 0, case when i % 3 = 0 then 'not_whitelisted' end,
               jsonb_build_object('code', case when i % 3 = 0 then 'not_whitelisted' else 'ok' end, 'requestId', 'req-' || i),
               now() - (i || ' seconds')::interval
          from generate_series(1, 12) i`),
    );
    // Access rows only: registering the service also left a change record (newest of all).
    const first = await runOperatorCommand(
      'audit-query',
      ['--service', 'audited', '--kind', 'access', '--limit', '5', '--json'],
      {
        DATABASE_URL: url,
      },
    );
    const page1 = JSON.parse(first.output) as { entries: { request_id: string }[]; next_cursor: string };
    expect(page1.entries.map((entry) => entry.request_id)).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5']);
    const second = await runOperatorCommand(
      'audit-query',
      ['--service', 'audited', '--kind', 'access', '--limit', '5', '--json', '--cursor', page1.next_cursor],
      {
        DATABASE_URL: url,
      },
    );
    const page2 = JSON.parse(second.output) as { entries: { request_id: string }[] };
    expect(page2.entries.map((entry) => entry.request_id)).toEqual(['req-6', 'req-7', 'req-8', 'req-9', 'req-10']);

    const failures = await runOperatorCommand('audit-query', ['--failures', '--json'], { DATABASE_URL: url });
    const failed = JSON.parse(failures.output) as { entries: { code: string }[]; next_cursor: string | null };
    expect(failed.entries.map((entry) => entry.code)).toEqual([
      'not_whitelisted',
      'not_whitelisted',
      'not_whitelisted',
      'not_whitelisted',
    ]);
    expect(failed.next_cursor).toBeNull();

    const bad = await runOperatorCommand('audit-query', ['--cursor', 'forged'], { DATABASE_URL: url });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('The cursor is not one this gateway gave out');
  });

  it('prints a row whose action and user agent hold a line break and escape sequences as one line, escapes visible', async () => {
    const url = await createDatabase({ migrated: true });
    const action = 'verify\n2026-01-01T00:00:00.000Z  svc-a                verify           ok';
    const userAgent = 'curl\u001b]0;title\u0007\u009b2J';
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into service_audit_logs (id, action, success, metadata, user_agent, created_at)
                     values (gen_random_uuid(), ${action}, false, '{"code":"invalid_key"}', ${userAgent}, now())`),
    );
    const text = await runOperatorCommand('audit-query', [], { DATABASE_URL: url });
    expect(text.code).toBe(0);
    const lines = text.output.trim().split('\n');
    expect(lines).toHaveLength(4); // the header, the entry, a blank line, the count
    expect(lines[1]).toContain('verify\\n2026-01-01T00:00:00.000Z  svc-a');
    expect(lines[1]).toContain('"curl\\x1b]0;title\\x07\\u009b2J"');
    expect(lines[1]).toMatch(/FAIL +invalid_key/);
    expect(lines[3]).toBe('1 entry.');
    expect(controlCharactersIn(text.output)).toEqual([]);

    const json = await runOperatorCommand('audit-query', ['--json'], { DATABASE_URL: url });
    expect(controlCharactersIn(json.output)).toEqual([]);
    const page = JSON.parse(json.output) as { entries: { action: string; user_agent: string }[] };
    expect(page.entries[0]).toMatchObject({ action, user_agent: userAgent });
  });

  it('prints a user agent padded to wrap onto a line of its own in quotes, its spaces collapsed and its length cut', async () => {
    const url = await createDatabase({ migrated: true });
    const fakeRow = '2026-01-01T00:00:00.000Z  svc-a                verify           ok   ok';
    const userAgent = `curl/8.0${' '.repeat(300)}${fakeRow}${'x'.repeat(200)}`;
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into service_audit_logs (id, action, success, metadata, user_agent, created_at)
                     values (gen_random_uuid(), 'verify', false, '{"code":"invalid_key"}', ${userAgent}, now())`),
    );
    const text = await runOperatorCommand('audit-query', [], { DATABASE_URL: url });
    const [, line = ''] = text.output.trim().split('\n');
    const shown = line.slice(line.indexOf('"curl'));
    expect(shown.startsWith('"curl/8.0 2026-01-01T00:00:00.000Z svc-a verify ok ok')).toBe(true);
    expect(shown.endsWith('…"')).toBe(true);
    expect(shown.length).toBeLessThanOrEqual('""…'.length + 120);
    expect(line).not.toMatch(/ {3,}2026-01-01/);
  });

  it.each([
    [['--since', '0000-01-01T00:00:00Z'], '--since takes an ISO 8601 time'],
    [['--until', '+275760-09-13T00:00:00Z'], '--until takes an ISO 8601 time'],
    [['--since', 'yesterday'], '--since takes an ISO 8601 time'],
    [[`--user=${'-'.repeat(36)}`], '--user takes a person'],
    [
      ['--limit', '0x18'],
      '--limit takes a whole number of entries from 1 to 500, in plain decimal digits; got "0x18".',
    ],
    [['--limit', '1e1'], '--limit takes a whole number of entries from 1 to 500'],
    [['--limit', ' '], '--limit takes a whole number of entries from 1 to 500'],
    [
      ['--cursor', Buffer.from(JSON.stringify(['0000-01-01T00:00:00.000Z', '-'.repeat(36)])).toString('base64url')],
      'The cursor is not one this gateway gave out',
    ],
  ])('refuses %j with exit 2 and a message that says what it takes', async (args, message) => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('audit-query', args, { DATABASE_URL: url });
    expect([result.code, result.output]).toEqual([2, expect.stringContaining(message)]);
  });
});
