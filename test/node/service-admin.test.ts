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

const authenticates = (url: string, key: string) =>
  withDatabaseHandle(
    url,
    async ({ db }) => (await authenticateService(db, { key, serviceIdentifier: null }, new Date())).ok,
  );

describe('operator commands for services', () => {
  it('rotate-key: the old key keeps working through the grace period, the new one at once; grace 0 ends it', async () => {
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

    const again = await runOperatorCommand('services-rotate-key', ['--id', 'rotating', '--grace-hours', '0'], {
      DATABASE_URL: url,
    });
    const third = KEY.exec(again.output)?.[1] ?? '';
    expect(again.output).toContain('The previous key no longer works.');
    expect(await authenticates(url, first)).toBe(false);
    expect(await authenticates(url, second)).toBe(false);
    expect(await authenticates(url, third)).toBe(true);
  });

  it('deactivate refuses the key, activate brings it back; list shows the state', async () => {
    const url = await createDatabase({ migrated: true });
    const key = await register(url, 'switch', ['--redirect-uri', 'https://switch.example.com/cb']);
    expect((await runOperatorCommand('services-deactivate', ['--id', 'switch'], { DATABASE_URL: url })).code).toBe(0);
    expect(await authenticates(url, key)).toBe(false);
    const listed = await runOperatorCommand('services-list', [], { DATABASE_URL: url });
    expect(listed.output).toContain('switch  (switch), DEACTIVATED');
    expect(listed.output).toContain('redirect URIs: https://switch.example.com/cb');
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
    const first = await runOperatorCommand('audit-query', ['--service', 'audited', '--limit', '5', '--json'], {
      DATABASE_URL: url,
    });
    const page1 = JSON.parse(first.output) as { entries: { requestId: string }[]; nextCursor: string };
    expect(page1.entries.map((entry) => entry.requestId)).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5']);
    const second = await runOperatorCommand(
      'audit-query',
      ['--service', 'audited', '--limit', '5', '--json', '--cursor', page1.nextCursor],
      {
        DATABASE_URL: url,
      },
    );
    const page2 = JSON.parse(second.output) as { entries: { requestId: string }[] };
    expect(page2.entries.map((entry) => entry.requestId)).toEqual(['req-6', 'req-7', 'req-8', 'req-9', 'req-10']);

    const failures = await runOperatorCommand('audit-query', ['--failures', '--json'], { DATABASE_URL: url });
    const failed = JSON.parse(failures.output) as { entries: { code: string }[]; nextCursor: string | null };
    expect(failed.entries.map((entry) => entry.code)).toEqual([
      'not_whitelisted',
      'not_whitelisted',
      'not_whitelisted',
      'not_whitelisted',
    ]);
    expect(failed.nextCursor).toBeNull();

    const bad = await runOperatorCommand('audit-query', ['--cursor', 'forged'], { DATABASE_URL: url });
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('The cursor is not one this gateway gave out');
  });
});
