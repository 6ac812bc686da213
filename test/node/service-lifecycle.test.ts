import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.ts';
import { editServiceAccess } from '../../src/services/admin.ts';
import { authenticateService } from '../../src/services/authenticate-service.ts';
import { startSignIn } from '../../src/sign-in/start-sign-in.ts';
import { TEST_OPERATOR } from '../support/change-origin.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

const KEY = /\b(gwk_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43})\b/;

const gateway = (url: string, ...args: string[]) => runOperatorCommand('gateway', args, { DATABASE_URL: url });

async function register(url: string, id: string, extra: string[] = []): Promise<string> {
  const result = await gateway(url, 'services', 'register', '--id', id, ...extra);
  expect(result.code).toBe(0);
  return KEY.exec(result.output)?.[1] ?? '';
}

const authenticates = (url: string, key: string) =>
  withDatabaseHandle(
    url,
    async ({ db }) => (await authenticateService(db, { key, serviceIdentifier: null }, new Date())).ok,
  );

interface ServiceJson {
  id: string;
  name: string;
  scopes: string[];
  redirect_uris: string[];
}

async function listed(url: string): Promise<ServiceJson[]> {
  const result = await gateway(url, 'services', 'list', '--json');
  expect(result.code).toBe(0);
  return (JSON.parse(result.output) as { services: ServiceJson[] }).services;
}

/** What starting a sign-in for this service and return address says: 'started' or the refusal's code. */
async function signInOutcome(url: string, service: string, redirectUri: string): Promise<string> {
  const cookieSealing = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  return withDatabaseHandle(url, ({ db }) =>
    startSignIn(
      {
        db,
        github: {
          clientId: 'Iv1.test',
          clientSecret: 'secret',
          oauthUrl: 'https://github.test',
          apiUrl: 'https://api.github.test',
        },
        cookieSealing,
        log: createLogger({}, 'error'),
      },
      {
        query: { service, redirect_uri: redirectUri },
        githubCallbackUrl: 'https://gateway.test/auth/callback',
      },
    ).then(
      () => 'started',
      (error: { code?: string }) => error.code ?? String(error),
    ),
  );
}

describe('gateway services rename', () => {
  it('changes the display name and keeps the id; --json prints the changed service', async () => {
    const url = await createDatabase({ migrated: true });
    const key = await register(url, 'billing', ['--name', 'Billing']);
    const renamed = await gateway(
      url,
      'services',
      'rename',
      '--id',
      'billing',
      '--name',
      'Billing & Invoices',
      '--json',
    );
    expect(renamed.code).toBe(0);
    expect(JSON.parse(renamed.output)).toMatchObject({ id: 'billing', name: 'Billing & Invoices' });
    expect((await listed(url)).map((service) => [service.id, service.name])).toEqual([
      ['billing', 'Billing & Invoices'],
    ]);
    expect(await authenticates(url, key)).toBe(true);
  });

  it('says what it did in text, refuses a name with control characters (exit 2) and an unknown id (exit 1)', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'shop');
    const renamed = await gateway(url, 'services', 'rename', '--id', 'shop', '--name', 'Shop');
    expect([renamed.code, renamed.output.trim()]).toEqual([0, 'shop is now called "Shop".']);
    const bad = await gateway(url, 'services', 'rename', '--id', 'shop', '--name', 'Shop\n  scopes: admin');
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('The display name must not contain control or invisible characters');
    const unknown = await gateway(url, 'services', 'rename', '--id', 'nope', '--name', 'Nope');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('There is no service "nope"');
    const missing = await gateway(url, 'services', 'rename', '--id', 'shop');
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('Usage:');
  });
});

describe('gateway services delete', () => {
  it('without --yes and not on a terminal refuses (exit 2), saying to add --yes, and deletes nothing', async () => {
    const url = await createDatabase({ migrated: true });
    const key = await register(url, 'keep');
    const refused = await gateway(url, 'services', 'delete', '--id', 'keep');
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('add --yes');
    expect(await authenticates(url, key)).toBe(true);
    expect((await listed(url)).map((service) => service.id)).toEqual(['keep']);
  });

  it('with --yes: its key is refused, sign-in with its id is refused, it leaves the list, its audit rows stay findable and its id stays reserved', async () => {
    const url = await createDatabase({ migrated: true });
    const key = await register(url, 'gone', ['--redirect-uri', 'https://gone.example.com/cb']);
    await register(url, 'stays');
    expect(await signInOutcome(url, 'gone', 'https://gone.example.com/cb')).toBe('started');
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`
        with service as (select id from service_registry where service_identifier = 'gone'),
             person as (insert into users (id, github_user_id, github_login, is_whitelisted, created_at, updated_at)
                        values (gen_random_uuid(), '4242', 'octo', true, now(), now()) returning id),
             audit as (insert into service_audit_logs (id, service_id, action, success, metadata, created_at)
                       select gen_random_uuid(), service.id, 'verify', true, '{"code":"ok","requestId":"req-gone"}', now()
                         from service)
        insert into sessions (id, user_id, service_id, expires_at, created_at)
        select gen_random_uuid(), person.id, service.id, now() + interval '1 day', now() from person, service`),
    );

    const deleted = await gateway(url, 'services', 'delete', '--id', 'gone', '--yes', '--json');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.output)).toMatchObject({
      id: 'gone',
      active: false,
      deleted_at: expect.stringMatching(/^\d{4}-/),
    });

    expect(await authenticates(url, key)).toBe(false);
    expect(await signInOutcome(url, 'gone', 'https://gone.example.com/cb')).toBe('unknown_service');
    expect((await listed(url)).map((service) => service.id)).toEqual(['stays']);
    const sessions = await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`select count(*)::int as n from sessions s join service_registry r on r.id = s.service_id
                      where r.service_identifier = 'gone'`),
    );
    expect(sessions.rows[0]).toEqual({ n: 0 });

    const audit = await gateway(url, 'audit', 'query', '--service', 'gone', '--kind', 'access', '--json');
    expect(audit.code).toBe(0);
    const entries = (JSON.parse(audit.output) as { entries: { request_id: string; service: string }[] }).entries;
    expect(entries.map((entry) => [entry.request_id, entry.service])).toEqual([['req-gone', 'gone']]);

    const again = await gateway(url, 'services', 'register', '--id', 'gone');
    expect(again.code).toBe(2);
    expect(again.output).toContain('"gone" was deleted');
    for (const args of [
      ['rename', '--id', 'gone', '--name', 'Back'],
      ['update', '--id', 'gone', '--add-scope', 'admin'],
      ['rotate-key', '--id', 'gone'],
      ['activate', '--id', 'gone'],
      ['delete', '--id', 'gone', '--yes'],
    ]) {
      const refused = await gateway(url, 'services', ...args);
      expect([args, refused.code, refused.output]).toEqual([
        args,
        1,
        expect.stringContaining('There is no service "gone"'),
      ]);
    }
  });
});

describe('gateway services update, one scope or return address at a time', () => {
  it('adds and removes scopes and return addresses (repeatable), keeping the others in order', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'shop', [
      '--redirect-uri',
      'https://a.example.com/cb',
      '--redirect-uri',
      'https://b.example.com/cb',
    ]);
    const updated = await gateway(
      url,
      'services',
      'update',
      '--id',
      'shop',
      '--add-scope',
      'github:token',
      '--add-scope',
      'admin',
      '--remove-scope',
      'users:verify',
      '--add-redirect-uri',
      'https://c.example.com/cb',
      '--remove-redirect-uri',
      'https://a.example.com/cb',
      '--json',
    );
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.output)).toMatchObject({
      id: 'shop',
      scopes: ['github:token', 'admin'],
      redirect_uris: ['https://b.example.com/cb', 'https://c.example.com/cb'],
    });
  });

  it('adding what is there or removing what is not says so, exits 0 and writes nothing', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'same', ['--redirect-uri', 'https://a.example.com/cb']);
    const updatedAt = () =>
      withDatabaseHandle(url, async ({ db }) =>
        String(
          (await db.execute(sql`select updated_at from service_registry where service_identifier = 'same'`)).rows[0]
            ?.updated_at,
        ),
      );
    const before = await updatedAt();
    const result = await gateway(
      url,
      'services',
      'update',
      '--id',
      'same',
      '--add-scope',
      'users:verify',
      '--remove-scope',
      'admin',
      '--add-redirect-uri',
      'https://a.example.com/cb',
      '--remove-redirect-uri',
      'https://z.example.com/cb',
    );
    expect(result.code).toBe(0);
    expect(result.output).toContain('same already has scope users:verify.');
    expect(result.output).toContain('same has no scope admin.');
    expect(result.output).toContain('same already has return address https://a.example.com/cb.');
    expect(result.output).toContain('same has no return address https://z.example.com/cb.');
    expect(result.output).toContain('Nothing changed.');
    expect(await updatedAt()).toBe(before);
  });

  it('an unknown scope names the accepted ones (exit 2); a bad return address is refused (exit 2)', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'strict');
    const scope = await gateway(url, 'services', 'update', '--id', 'strict', '--add-scope', 'root');
    expect(scope.code).toBe(2);
    expect(scope.output).toContain('Unknown scope "root"; scopes are users:verify, github:token, admin.');
    const uri = await gateway(url, 'services', 'update', '--id', 'strict', '--add-redirect-uri', 'javascript:alert(1)');
    expect(uri.code).toBe(2);
    const mixed = await gateway(
      url,
      'services',
      'update',
      '--id',
      'strict',
      '--scope',
      'admin',
      '--add-scope',
      'admin',
    );
    expect(mixed.code).toBe(2);
    expect(mixed.output).toContain('--scope replaces the whole list');
  });

  it('concurrent additions and removals on one service all land (no read-modify-write)', async () => {
    const url = await createDatabase({ migrated: true });
    await register(url, 'busy', ['--redirect-uri', 'https://old.example.com/cb']);
    const uris = Array.from({ length: 8 }, (_, index) => `https://r${index}.example.com/cb`);
    const none = { addScopes: [], removeScopes: [], addRedirectUris: [], removeRedirectUris: [] };
    await withDatabaseHandle(url, ({ db }) =>
      Promise.all([
        ...uris.map((uri) => editServiceAccess(db, 'busy', { ...none, addRedirectUris: [uri] }, TEST_OPERATOR)),
        editServiceAccess(db, 'busy', { ...none, removeRedirectUris: ['https://old.example.com/cb'] }, TEST_OPERATOR),
        editServiceAccess(db, 'busy', { ...none, addScopes: ['admin'] }, TEST_OPERATOR),
      ]),
    );
    const [service] = await listed(url);
    expect([...(service?.redirect_uris ?? [])].sort()).toEqual([...uris].sort());
    expect(service?.scopes).toEqual(['users:verify', 'admin']);
  });
});
