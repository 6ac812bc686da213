import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

async function addPerson(url: string, login: string, githubId: string, whitelisted = false) {
  await withDatabaseHandle(url, ({ db }) =>
    db.execute(sql`insert into users (id, github_user_id, github_login, is_whitelisted, created_at, updated_at)
                   values (gen_random_uuid(), ${githubId}, ${login}, ${whitelisted}, now(), now())`),
  );
}

const isOperator = (url: string, githubId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ granted: boolean }>(
      sql`select exists (select 1 from operator_grants g join users u on u.id = g.user_id
                         where u.github_user_id = ${githubId}) as granted`,
    );
    return result.rows[0]?.granted;
  });

const changeActions = (url: string, githubId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ action: string; actor_kind: string; actor_name: string | null }>(
      sql`select c.action, c.actor_kind, c.actor_name from change_records c join users u on u.id = c.subject_user_id
          where u.github_user_id = ${githubId} order by c.created_at, c.id`,
    );
    return result.rows.map((row) => [row.action, row.actor_kind, row.actor_name]);
  });

const gateway = (url: string, args: string[]) =>
  runOperatorCommand('gateway', args, { DATABASE_URL: url, GATEWAY_OPERATOR: 'alice' });

describe('gateway users grant-operator / revoke-operator', () => {
  it('grants the console by login (any case) and takes it back by GitHub id, each recorded with the operator', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'MonaLisa', '583231', true);
    const grant = await gateway(url, ['users', 'grant-operator', 'monalisa']);
    expect(grant.code).toBe(0);
    expect(grant.output).toContain(
      'MonaLisa (GitHub id 583231) may now use the operator console at /console, while they are admitted.',
    );
    expect(await isOperator(url, '583231')).toBe(true);
    const revoke = await gateway(url, ['users', 'revoke-operator', '--github-id', '583231']);
    expect(revoke.code).toBe(0);
    expect(revoke.output).toContain('MonaLisa (GitHub id 583231) may no longer use the operator console.');
    expect(await isOperator(url, '583231')).toBe(false);
    expect(await changeActions(url, '583231')).toEqual([
      ['users:grant-operator', 'operator', 'alice'],
      ['users:revoke-operator', 'operator', 'alice'],
    ]);
  });

  it('says so when the person already holds the grant (or never did), records nothing and exits 0', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'hubot', '777');
    await gateway(url, ['users', 'grant-operator', 'hubot']);
    const again = await gateway(url, ['users', 'grant-operator', 'hubot']);
    expect(again.code).toBe(0);
    expect(again.output.trim()).toBe('hubot (GitHub id 777) is already an operator; nothing changed.');
    await gateway(url, ['users', 'revoke-operator', 'hubot']);
    const out = await gateway(url, ['users', 'revoke-operator', 'hubot']);
    expect(out.output.trim()).toBe('hubot (GitHub id 777) was not an operator; nothing changed.');
    expect((await changeActions(url, '777')).map(([action]) => action)).toEqual([
      'users:grant-operator',
      'users:revoke-operator',
    ]);
  });

  it('refuses a login two people carry, naming their GitHub ids, and grants neither', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'octo', '101');
    await addPerson(url, 'Octo', '202');
    const result = await gateway(url, ['users', 'grant-operator', 'octo']);
    expect(result.code).toBe(1);
    expect(result.output).toContain('(GitHub ids 101, 202)');
    expect(result.output).toContain('Name the person by GitHub id instead.');
    expect([await isOperator(url, '101'), await isOperator(url, '202')]).toEqual([false, false]);
  });

  it('says what to do about someone who has not signed in yet (exit 1), and about a bad login or two people (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    const nobody = await gateway(url, ['users', 'grant-operator', 'nobody-yet']);
    expect(nobody.code).toBe(1);
    expect(nobody.output).toContain('No one called nobody-yet has signed in yet. Ask them to sign in once');
    const bad = await gateway(url, ['users', 'grant-operator', 'not a login']);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('Usage: gateway users grant-operator');
    const two = await gateway(url, ['users', 'grant-operator', 'a', '--github-id', '1']);
    expect(two.code).toBe(2);
    expect(two.output).toContain('Name one person');
  });

  it('gateway users list marks who holds the console grant', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'opal', '31', true);
    await addPerson(url, 'plain', '32', true);
    await gateway(url, ['users', 'grant-operator', 'opal']);
    const list = await gateway(url, ['users', 'list']);
    expect(list.code).toBe(0);
    const line = (login: string) => list.output.split('\n').find((each) => each.startsWith(`${login} `)) ?? '';
    expect(line('opal')).toContain('yes (whitelist); console operator');
    expect(line('plain')).not.toContain('operator');
  });
});
