import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { authenticateService } from '../../src/services/authenticate-service.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

async function addPerson(url: string, login: string, githubId: string) {
  await withDatabaseHandle(url, ({ db }) =>
    db.execute(sql`insert into users (id, github_user_id, github_login, created_at, updated_at)
                   values (gen_random_uuid(), ${githubId}, ${login}, now(), now())`),
  );
}

const whitelisted = (url: string, githubId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ allowed: boolean }>(
      sql`select is_whitelisted as allowed from users where github_user_id = ${githubId}`,
    );
    return result.rows[0]?.allowed;
  });

describe('npm run users:whitelist / users:unwhitelist', () => {
  it('lets a person in by login (any case) and out again by GitHub id', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'MonaLisa', '583231');
    const allow = await runOperatorCommand('users-whitelist', ['monalisa'], { DATABASE_URL: url });
    expect(allow.code).toBe(0);
    expect(allow.output).toContain('MonaLisa (GitHub id 583231) is now allowed in.');
    expect(await whitelisted(url, '583231')).toBe(true);

    const remove = await runOperatorCommand('users-whitelist', ['--remove', '--github-id', '583231'], {
      DATABASE_URL: url,
    });
    expect(remove.code).toBe(0);
    expect(remove.output).toContain('is no longer allowed in.');
    expect(await whitelisted(url, '583231')).toBe(false);
  });

  it('says what to do about someone who has not signed in yet', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('users-whitelist', ['nobody-yet'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain('No one called nobody-yet has signed in yet. Ask them to sign in once');
  });

  it('says so when the person is already in the state asked for, and exits 0', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'hubot', '777');
    expect((await runOperatorCommand('users-whitelist', ['hubot'], { DATABASE_URL: url })).code).toBe(0);
    const again = await runOperatorCommand('users-whitelist', ['hubot'], { DATABASE_URL: url });
    expect(again.code).toBe(0);
    expect(again.output.trim()).toBe('hubot (GitHub id 777) is already allowed in; nothing changed.');
    await runOperatorCommand('users-whitelist', ['--remove', 'hubot'], { DATABASE_URL: url });
    const out = await runOperatorCommand('users-whitelist', ['--remove', 'hubot'], { DATABASE_URL: url });
    expect(out.output.trim()).toBe('hubot (GitHub id 777) was not allowed in; nothing changed.');
    expect(await whitelisted(url, '777')).toBe(false);
  });

  it('names an unknown GitHub id as an id, not as a name', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('users-whitelist', ['--github-id', '123'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain('No one with GitHub id 123 has signed in yet.');
  });

  it('refuses a login two people carry, naming their GitHub ids, and changes neither', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'octo', '101');
    await addPerson(url, 'Octo', '202');
    const result = await runOperatorCommand('users-whitelist', ['octo'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain('(GitHub ids 101, 202)');
    expect(result.output).toContain('Whitelist by GitHub id instead.');
    expect([await whitelisted(url, '101'), await whitelisted(url, '202')]).toEqual([false, false]);
  });

  it('prints a login planted with control characters escaped, on one line', async () => {
    const url = await createDatabase({ migrated: true });
    await addPerson(url, 'mona\u001b[2J\nroot is now allowed in.', '4242');
    const result = await runOperatorCommand('users-whitelist', ['--github-id', '4242'], { DATABASE_URL: url });
    expect(result.code).toBe(0);
    expect(result.output.trim()).toBe('mona\\x1b[2J\\nroot is now allowed in. (GitHub id 4242) is now allowed in.');
  });

  it('refuses something that is not a login', async () => {
    const result = await runOperatorCommand('users-whitelist', ['not a login'], {
      DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('Usage: gateway users whitelist');
  });
});

describe('npm run services:register', () => {
  it('prints the key once, and that key authenticates the service', async () => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand(
      'services-register',
      [
        '--id',
        'billing',
        '--name',
        'Billing',
        '--redirect-uri',
        'https://billing.example.com/auth/done',
        '--scope',
        'users:verify',
        '--scope',
        'github:token',
      ],
      { DATABASE_URL: url },
    );
    expect(result.code).toBe(0);
    const key = /\b(gwk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43})\b/.exec(result.output)?.[1] ?? '';
    expect(key).not.toBe('');
    const auth = await withDatabaseHandle(url, ({ db }) =>
      authenticateService(db, { key, serviceIdentifier: null }, new Date()),
    );
    expect(auth).toMatchObject({
      ok: true,
      service: {
        identifier: 'billing',
        scopes: ['users:verify', 'github:token'],
        redirectUris: ['https://billing.example.com/auth/done'],
      },
    });
    const stored = await withDatabaseHandle(url, ({ db }) =>
      db.execute<{ hash: string }>(sql`select api_key_hash as hash from service_registry`),
    );
    expect(stored.rows[0]?.hash).toMatch(/^pbkdf2-sha256\$\d+\$/);
    expect(stored.rows[0]?.hash).not.toContain(key.slice(17));
  });

  it.each([
    [['--id', 'Bad Id'], 'The service id is 1-100 lowercase letters'],
    [
      ['--id', 'x', '--redirect-uri', 'http://app.example.com/cb'],
      'must use https (http is allowed on localhost only)',
    ],
    [['--id', 'x', '--redirect-uri', 'https://user@app.example.com/cb'], 'must not contain a user name or password'],
    [['--id', 'x', '--redirect-uri', 'https://app.example.com/cb#x'], 'must not have a fragment'],
    [['--id', 'x', '--redirect-uri', 'https://APP.example.com/cb'], 'in its normal form'],
    [['--id', 'x', '--scope', 'root'], 'Unknown scope "root"'],
  ])('refuses %j with a message that says what is wrong', async (args, message) => {
    const url = await createDatabase({ migrated: true });
    const result = await runOperatorCommand('services-register', args, { DATABASE_URL: url });
    expect(result.code).toBe(2);
    expect(result.output).toContain(message);
  });

  it('without arguments prints its usage and exits 2, touching no database', async () => {
    // A closed port: a command that reached for the database would say it cannot reach it.
    const result = await runOperatorCommand('services-register', [], {
      DATABASE_URL: 'postgres://postgres:unused@127.0.0.1:1/gateway',
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('Name the service with --id');
    expect(result.output).toContain('Usage: gateway services register --id <id> [--name <display name>]');
    expect(result.output).not.toContain('Cannot reach');
  });

  it('refuses an id that is taken', async () => {
    const url = await createDatabase({ migrated: true });
    expect((await runOperatorCommand('services-register', ['--id', 'twice'], { DATABASE_URL: url })).code).toBe(0);
    const again = await runOperatorCommand('services-register', ['--id', 'twice'], { DATABASE_URL: url });
    expect(again.code).toBe(2);
    expect(again.output).toContain('A service "twice" already exists');
  });
});
