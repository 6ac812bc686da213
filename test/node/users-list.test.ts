import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

/** A person as sign-in leaves them: a row with their GitHub id, login and sign-in time. */
async function addPerson(
  url: string,
  person: { login: string | null; githubId: string; whitelisted?: boolean; lastSignIn?: string | null },
): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into users (id, github_user_id, github_login, is_whitelisted, last_sign_in_at, created_at, updated_at)
          values (gen_random_uuid(), ${person.githubId}, ${person.login}, ${person.whitelisted ?? false},
                  ${person.lastSignIn ?? null}, now(), now())
          returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

async function addService(url: string, identifier: string): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into service_registry (id, service_identifier, display_name, api_key_hash, created_at, updated_at)
          values (gen_random_uuid(), ${identifier}, ${identifier}, 'unused', now(), now()) returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

/** A session expiring `inSeconds` from now (negative: already expired). */
async function addSession(url: string, userId: string, serviceId: string | null, inSeconds: number): Promise<void> {
  await withDatabaseHandle(url, ({ db }) =>
    db.execute(sql`insert into sessions (id, user_id, service_id, expires_at, created_at)
                   values (gen_random_uuid(), ${userId}, ${serviceId},
                           (now() at time zone 'utc') + make_interval(secs => ${inSeconds}), now())`),
  );
}

const whitelisted = (url: string, githubId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ allowed: boolean }>(
      sql`select is_whitelisted as allowed from users where github_user_id = ${githubId}`,
    );
    return result.rows[0]?.allowed;
  });

const gateway = (url: string, args: string[]) => runOperatorCommand('gateway', args, { DATABASE_URL: url });

describe('gateway users list', () => {
  it('shows each person: admitted by the whitelist or not, last sign-in, live sessions per service, in an aligned table', async () => {
    const url = await createDatabase({ migrated: true });
    const [appA, appB] = [await addService(url, 'app-a'), await addService(url, 'app-b')];
    const mona = await addPerson(url, {
      login: 'mona',
      githubId: '101',
      whitelisted: true,
      lastSignIn: '2026-11-30T10:00:00Z',
    });
    await addPerson(url, { login: 'hubot', githubId: '202', lastSignIn: '2026-11-30T11:00:00Z' });
    await addSession(url, mona, appA, 600);
    await addSession(url, mona, appA, 3600);
    await addSession(url, mona, appB, 60);
    await addSession(url, mona, appB, -60);

    const result = await gateway(url, ['users', 'list']);
    expect(result.code).toBe(0);
    const lines = result.output.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LOGIN +GITHUB ID +USER ID +ADMITTED +LAST SIGN-IN +LIVE SESSIONS$/);
    // Newest sign-in first; every column starts where its header does.
    const hubot = lines[1] ?? '';
    const monaLine = lines[2] ?? '';
    expect(hubot).toMatch(/^hubot +202 +[0-9a-f-]{36} +no +2026-11-30T11:00:00.000Z +-$/);
    expect(monaLine).toContain(`${mona}  yes (whitelist)  2026-11-30T10:00:00.000Z  app-a: 2 until `);
    expect(monaLine).toContain(', app-b: 1 until ');
    expect(monaLine.indexOf('yes (whitelist)')).toBe((lines[0] ?? '').indexOf('ADMITTED'));
    expect(result.output).toContain('2 people, 1 not admitted.');
    expect(result.output).not.toContain('never-signed-in');
  });

  it('--json prints the admin API shape, snake_case', async () => {
    const url = await createDatabase({ migrated: true });
    const app = await addService(url, 'app-a');
    const id = await addPerson(url, { login: 'mona', githubId: '101', whitelisted: true, lastSignIn: null });
    await addSession(url, id, app, 600);
    await addSession(url, id, null, 600);
    const result = await gateway(url, ['users', 'list', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.output) as { people: Record<string, unknown>[]; next_cursor: string | null };
    expect(body.next_cursor).toBeNull();
    expect(body.people).toEqual([
      {
        id,
        github_id: '101',
        login: 'mona',
        admitted: true,
        admitted_by: 'whitelist',
        last_sign_in_at: null,
        first_seen_at: expect.any(String),
        sessions: [
          { service: null, live: 1, latest_expires_at: expect.any(String) },
          { service: 'app-a', live: 1, latest_expires_at: expect.any(String) },
        ],
      },
    ]);
  });

  it('--pending lists the people refused, newest attempt first, and ends with the command to let them in', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'older', githubId: '1', lastSignIn: '2026-11-29T09:00:00Z' });
    await addPerson(url, { login: 'newer', githubId: '2', lastSignIn: '2026-11-30T09:00:00Z' });
    await addPerson(url, { login: 'allowed', githubId: '3', whitelisted: true, lastSignIn: '2026-11-30T12:00:00Z' });
    // A login planted with shell syntax is named by id in the command.
    await addPerson(url, { login: 'x;rm -rf ~', githubId: '4', lastSignIn: '2026-11-28T09:00:00Z' });
    const result = await gateway(url, ['users', 'list', '--pending']);
    expect(result.code).toBe(0);
    const logins = result.output
      .split('\n')
      .slice(1, 4)
      .map((line) => line.split(/ {2,}/)[0]);
    expect(logins).toEqual(['newer', 'older', 'x;rm -rf ~']);
    expect(result.output).not.toMatch(/^allowed /m);
    expect(result.output).toContain('3 people waiting to be let in.');
    expect(result.output.trimEnd().split('\n').at(-1)).toBe(
      'To let them in: npx gateway users whitelist newer older --github-id 4',
    );
  });

  it('--pending with no one waiting says so', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'allowed', githubId: '3', whitelisted: true });
    const result = await gateway(url, ['users', 'list', '--pending']);
    expect(result.code).toBe(0);
    expect(result.output.trim()).toBe('No one is waiting to be let in.');
  });
});

describe('gateway users whitelist with several people', () => {
  it('lets in logins and ids in one command, one line each, and exits 1 after doing the others when some were refused', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    await addPerson(url, { login: 'bob', githubId: '12' });
    await addPerson(url, { login: 'carol', githubId: '13', whitelisted: true });
    await addPerson(url, { login: 'octo', githubId: '14' });
    await addPerson(url, { login: 'Octo', githubId: '15' });
    const result = await gateway(url, [
      'users',
      'whitelist',
      'alice',
      'carol',
      'nobody-yet',
      'octo',
      '--github-id',
      '12',
      '--github-id',
      '999',
    ]);
    expect(result.code).toBe(1);
    const lines = result.output.trimEnd().split('\n');
    expect(lines).toContain('alice (GitHub id 11) is now allowed in.');
    expect(lines).toContain('carol (GitHub id 13) is already allowed in; nothing changed.');
    expect(lines).toContain(
      'No one called nobody-yet has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.',
    );
    expect(lines.some((line) => line.includes('The login octo belongs to 2 people here (GitHub ids 14, 15)'))).toBe(
      true,
    );
    expect(lines).toContain('bob (GitHub id 12) is now allowed in.');
    expect(lines).toContain(
      'No one with GitHub id 999 has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.',
    );
    expect(lines).toContain('3 of 6 refused (above); 3 others were done.');
    expect(lines).toHaveLength(7);
    expect(await whitelisted(url, '11')).toBe(true);
    expect(await whitelisted(url, '12')).toBe(true);
    expect([await whitelisted(url, '14'), await whitelisted(url, '15')]).toEqual([false, false]);
  });

  it('exits 0 when every person was let in or already was', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    await addPerson(url, { login: 'bob', githubId: '12', whitelisted: true });
    const result = await gateway(url, ['users', 'whitelist', 'alice', 'bob']);
    expect(result.code).toBe(0);
    expect(result.output.trim().split('\n')).toEqual([
      'alice (GitHub id 11) is now allowed in.',
      'bob (GitHub id 12) is already allowed in; nothing changed.',
    ]);
  });

  it('refuses the whole command, changing no one, when one name is not a login (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11' });
    const result = await gateway(url, ['users', 'whitelist', 'alice', 'not a login']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('"not a login" is not a GitHub login');
    expect(await whitelisted(url, '11')).toBe(false);
  });

  it('takes several people off the whitelist in one command', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, { login: 'alice', githubId: '11', whitelisted: true });
    await addPerson(url, { login: 'bob', githubId: '12', whitelisted: true });
    const result = await gateway(url, ['users', 'unwhitelist', 'alice', '--github-id', '12']);
    expect(result.code).toBe(0);
    expect([await whitelisted(url, '11'), await whitelisted(url, '12')]).toEqual([false, false]);
  });
});
