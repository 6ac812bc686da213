import { hostname, userInfo } from 'node:os';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryAudit } from '../../src/audit/query.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

interface Entry {
  id: string;
  at: string;
  kind: string;
  action: string;
  service: string | null;
  user_id: string | null;
  code: string | null;
  actor: Record<string, unknown> | null;
  host: string | null;
  details: Record<string, unknown> | null;
}

const gateway = (url: string, env: Record<string, string>, ...args: string[]) =>
  runOperatorCommand('gateway', args, { DATABASE_URL: url, ...env });

async function entries(url: string, ...args: string[]): Promise<{ entries: Entry[]; next_cursor: string | null }> {
  const run = await gateway(url, {}, 'audit', 'query', '--json', ...args);
  expect(run.code, run.output).toBe(0);
  return JSON.parse(run.output) as { entries: Entry[]; next_cursor: string | null };
}

describe('operator commands leave change records', () => {
  let url: string;
  const keys: string[] = [];
  beforeAll(async () => {
    url = await createDatabase({ migrated: true });
  });

  it('services register, update, rename, rotate-key, deactivate, activate and delete each leave one record by the operator (GATEWAY_OPERATOR) and host', async () => {
    const as = { GATEWAY_OPERATOR: 'alice (on call)' };
    const registered = await gateway(url, as, 'services', 'register', '--id', 'cli-svc', '--scope', 'users:verify');
    expect(registered.code).toBe(0);
    keys.push(...(registered.output.match(/gwk_\S+/g) ?? []));
    for (const args of [
      ['update', '--id', 'cli-svc', '--add-scope', 'github:token'],
      ['rename', '--id', 'cli-svc', '--name', 'CLI Service'],
      ['rotate-key', '--id', 'cli-svc', '--grace-hours', '2'],
      ['deactivate', '--id', 'cli-svc'],
      ['activate', '--id', 'cli-svc'],
      ['delete', '--id', 'cli-svc', '--yes'],
    ]) {
      const run = await gateway(url, as, 'services', ...args);
      expect([args, run.code]).toEqual([args, 0]);
      keys.push(...(run.output.match(/gwk_\S+/g) ?? []));
    }
    const page = await entries(url, '--kind', 'change', '--service', 'cli-svc');
    expect(page.entries.map((entry) => entry.action).reverse()).toEqual([
      'services:register',
      'services:update',
      'services:rename',
      'services:rotate-key',
      'services:deactivate',
      'services:activate',
      'services:delete',
    ]);
    for (const entry of page.entries)
      expect(entry).toMatchObject({
        kind: 'change',
        service: 'cli-svc',
        code: 'ok',
        actor: { kind: 'operator', name: 'alice (on call)' },
        host: hostname(),
      });
    expect(page.entries.find((entry) => entry.action === 'services:rotate-key')?.details).toMatchObject({
      grace_seconds: 7200,
      force: false,
    });
  });

  it('users whitelist and unwhitelist leave one record each naming the person; the operator defaults to user@host', async () => {
    const person = '5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into users (id, github_user_id, github_login, created_at, updated_at)
                     values (${person}::uuid, '777', 'listed-one', now(), now())`),
    );
    expect((await gateway(url, { GATEWAY_OPERATOR: '' }, 'users', 'whitelist', 'listed-one')).code).toBe(0);
    expect((await gateway(url, { GATEWAY_OPERATOR: '' }, 'users', 'unwhitelist', 'listed-one')).code).toBe(0);
    const page = await entries(url, '--user', person);
    expect(page.entries.map((entry) => [entry.kind, entry.action, entry.user_id, entry.actor])).toEqual([
      ['change', 'users:unwhitelist', person, { kind: 'operator', name: `${userInfo().username}@${hostname()}` }],
      ['change', 'users:whitelist', person, { kind: 'operator', name: `${userInfo().username}@${hostname()}` }],
    ]);
    expect(page.entries[1]?.details).toEqual({ github_id: '777', login: 'listed-one' });
  });

  it('no record holds a key or a key hash', async () => {
    const rows = await withDatabaseHandle(url, async ({ db }) => {
      const records = await db.execute(sql`select to_jsonb(c)::text as row from change_records c`);
      const hashes = await db.execute<{ hash: string }>(sql`select api_key_hash as hash from service_registry`);
      return { records: records.rows.map((row) => String(row.row)), hashes: hashes.rows.map((row) => row.hash) };
    });
    expect(keys.length).toBe(2);
    const text = rows.records.join('\n');
    for (const secret of [...keys, ...rows.hashes]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/gwk_|pbkdf2-sha256\$/);
  });

  it('--kind refuses a kind it does not know (exit 2) and names the kinds', async () => {
    const run = await gateway(url, {}, 'audit', 'query', '--kind', 'everything');
    expect(run.code).toBe(2);
    expect(run.output).toContain('--kind takes access, change, sign-in');
  });

  it('the table shows each kind, who acted and the host', async () => {
    const run = await gateway(url, {}, 'audit', 'query', '--kind', 'change', '--limit', '1');
    expect(run.code).toBe(0);
    const [header = '', row = ''] = run.output.split('\n');
    expect(header).toMatch(/^TIME +KIND +SERVICE +ACTION +RESULT +CODE +BY +USER +LOGIN +IP +HOST +REQUEST +DETAILS/);
    expect(row).toContain('change');
    expect(row).toContain('users:unwhitelist');
    expect(row).toContain(`operator ${userInfo().username}@${hostname()}`);
  });
});

describe('gateway audit query pages over access rows and change records together', () => {
  it('entries of both kinds at the same millisecond come once each, in (time, id) order, across pages of 1, 2 and 3', async () => {
    const url = await createDatabase({ migrated: true });
    const at = '2026-11-30T10:00:00.000Z';
    const ids = Array.from({ length: 6 }, () => crypto.randomUUID());
    await withDatabaseHandle(url, async ({ db }) => {
      for (const [index, id] of ids.entries()) {
        if (index % 2 === 0)
          await db.execute(sql`insert into service_audit_logs (id, action, success, metadata, created_at)
            values (${id}::uuid, 'verify', true, '{"code":"ok","requestId":"r"}', ${at}::timestamp)`);
        else
          await db.execute(sql`insert into change_records (id, kind, action, success, code, actor_kind, actor_name,
                                 details, created_at)
            values (${id}::uuid, 'change', 'users:whitelist', true, 'ok', 'operator', 'bob', '{}', ${at}::timestamp)`);
      }
      // One older entry of each kind, so a page boundary also falls between timestamps.
      await db.execute(sql`insert into service_audit_logs (id, action, success, metadata, created_at)
        values (gen_random_uuid(), 'verify', false, '{"code":"bad_key"}', ${at}::timestamp - interval '1 second')`);
      await db.execute(sql`insert into change_records (id, kind, action, success, code, actor_kind, details, created_at)
        values (gen_random_uuid(), 'sign-in', 'sign-in:pending', false, 'not_whitelisted', 'person', '{}',
                ${at}::timestamp - interval '2 seconds')`);
    });
    const everything = (await entries(url, '--limit', '500')).entries;
    expect(everything).toHaveLength(8);
    expect(everything.slice(0, 6).map((entry) => entry.id)).toEqual([...ids].sort().reverse());
    expect(everything.slice(6).map((entry) => entry.kind)).toEqual(['access', 'sign-in']);
    // The pages in process (the command's own query, a process per page would be slow); one through the command.
    await withDatabaseHandle(url, async ({ db }) => {
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Awaited<ReturnType<typeof queryAudit>> = await queryAudit(db, {
            limit,
            ...(cursor ? { cursor } : {}),
          });
          seen.push(...page.entries.map((entry) => entry.id));
          cursor = page.nextCursor;
        } while (cursor);
        expect([limit, seen]).toEqual([limit, everything.map((entry) => entry.id)]);
      }
    });
    const first = await entries(url, '--limit', '3');
    const second = await entries(url, '--limit', '3', '--cursor', first.next_cursor ?? '');
    expect([...first.entries, ...second.entries].map((entry) => entry.id)).toEqual(
      everything.slice(0, 6).map((entry) => entry.id),
    );
    expect((await entries(url, '--kind', 'access')).entries.map((entry) => entry.kind)).toEqual([
      'access',
      'access',
      'access',
      'access',
    ]);
    expect((await entries(url, '--kind', 'sign-in')).entries.map((entry) => entry.action)).toEqual(['sign-in:pending']);
  });
});
