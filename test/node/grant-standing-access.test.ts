import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

// The cutover's grant (issue 15): the old system kept no sessions, so a `github:token` service
// gets standing access by a session row that expired as it was made, for each whitelisted person
// with a stored token who has no session with it yet.

async function addPerson(url: string, login: string, person: { whitelisted: boolean; token: boolean }) {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into users (id, github_user_id, github_login, access_token, is_whitelisted, created_at, updated_at)
          values (gen_random_uuid(), ${`gh-${login}`}, ${login}, ${person.token ? `gho_${login}` : null},
                  ${person.whitelisted}, now(), now())
          returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

async function addService(
  url: string,
  identifier: string,
  state: { scopes: string[]; active?: boolean; deleted?: boolean },
): Promise<string> {
  return withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{ id: string }>(
      sql`insert into service_registry (id, service_identifier, display_name, api_key_hash, allowed_scopes,
                                        is_active, deleted_at, created_at, updated_at)
          values (gen_random_uuid(), ${identifier}, ${identifier}, 'unused', ${`{${state.scopes.join(',')}}`}::text[],
                  ${state.active ?? true}, ${state.deleted ? sql`now()` : null}, now(), now())
          returning id`,
    );
    return result.rows[0]?.id ?? '';
  });
}

type SessionRow = {
  user_id: string;
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
};

const sessionsAt = (url: string, serviceId: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<SessionRow>(
      sql`select user_id, to_char(expires_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as expires_at,
                 to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, revoked_at
          from sessions where service_id = ${serviceId} order by created_at`,
    );
    return result.rows;
  });

const grantRecords = (url: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const result = await db.execute<{
      subject_service_id: string;
      details: Record<string, unknown>;
      actor_name: string;
    }>(
      sql`select subject_service_id, details, actor_name from change_records
          where action = 'services:grant-standing-access' order by created_at`,
    );
    return result.rows;
  });

const gateway = (url: string, args: string[], env: Record<string, string> = {}) =>
  runOperatorCommand('gateway', args, { DATABASE_URL: url, GATEWAY_OPERATOR: 'ops', ...env });

describe('gateway services grant-standing-access', () => {
  let url: string;
  const ids: Record<string, string> = {};
  let tokensApp: string;
  beforeAll(async () => {
    url = await createDatabase({ migrated: true });
    tokensApp = await addService(url, 'tokens-app', { scopes: ['users:verify', 'github:token'] });
    await addService(url, 'verify-only', { scopes: ['users:verify'] });
    await addService(url, 'off-app', { scopes: ['github:token'], active: false });
    await addService(url, 'gone-app', { scopes: ['github:token'], deleted: true });
    ids.ana = await addPerson(url, 'ana', { whitelisted: true, token: true });
    ids.eve = await addPerson(url, 'eve', { whitelisted: true, token: true });
    ids.bo = await addPerson(url, 'bo', { whitelisted: true, token: false });
    ids.cy = await addPerson(url, 'cy', { whitelisted: false, token: true });
    // Dee signed in through tokens-app once and signed out of it: that stays as it is.
    ids.dee = await addPerson(url, 'dee', { whitelisted: true, token: true });
    await withDatabaseHandle(url, ({ db }) =>
      db.execute(sql`insert into sessions (id, user_id, service_id, expires_at, revoked_at, created_at)
                     values (gen_random_uuid(), ${ids.dee}, ${tokensApp}, now() - interval '1 hour',
                             now() - interval '2 hours', now() - interval '3 hours')`),
    );
  });

  it('refuses, exit 1 with one line, a service without github:token, a deactivated one, a deleted one, an unknown id', async () => {
    const refusals: [string, RegExp][] = [
      ['verify-only', /^verify-only lacks the scope github:token, so it fetches no tokens: nothing to grant\.$/],
      ['off-app', /^off-app is deactivated: its key is refused\. Activate it first/],
      ['gone-app', /^gone-app is deleted: it can fetch no token\.$/],
      ['nobody-app', /^There is no service "nobody-app"; `npx gateway services list` shows them\.$/],
    ];
    for (const [id, message] of refusals) {
      const result = await gateway(url, ['services', 'grant-standing-access', '--id', id]);
      expect({ id, code: result.code }).toEqual({ id, code: 1 });
      expect(result.output.trim().split('\n')).toHaveLength(1);
      expect(result.output.trim()).toMatch(message);
    }
    expect(await grantRecords(url)).toEqual([]);
  });

  it('--dry-run counts the whitelisted people with a token and no session there, and writes nothing', async () => {
    const result = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(
      /^Would grant tokens-app standing access to 2 people until \S+Z \(STANDING_ACCESS_SECONDS not set here: the default 2592000, 30 days; the Worker's own value must match\); nothing written \(dry run\)\.\n$/,
    );
    expect((await sessionsAt(url, tokensApp)).map((row) => row.user_id)).toEqual([ids.dee]);
  });

  it('grants exactly those people one session row each that expired as it was made, records it with the count, and a second run grants nobody', async () => {
    const before = Date.now();
    const result = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app'], {
      STANDING_ACCESS_SECONDS: '86400',
    });
    expect(result.code).toBe(0);
    const line = result.output.match(
      /^Granted tokens-app standing access to 2 people until (\S+Z) \(STANDING_ACCESS_SECONDS=86400\); they can end it from their landing page\.\n$/,
    );
    expect(line, result.output).not.toBeNull();

    const rows = await sessionsAt(url, tokensApp);
    const granted = rows.filter((row) => row.user_id !== ids.dee);
    expect(granted.map((row) => row.user_id).sort()).toEqual([ids.ana, ids.eve].sort());
    for (const row of granted) {
      expect(row.revoked_at).toBeNull();
      expect(row.expires_at).toBe(row.created_at);
      expect(Date.parse(row.expires_at)).toBeGreaterThanOrEqual(before - 1000);
      // The access ends STANDING_ACCESS_SECONDS after the row expired, as the output says.
      expect(new Date(Date.parse(row.expires_at) + 86_400_000).toISOString()).toBe(line?.[1]);
    }
    // Dee's own session there is untouched (still revoked): no new row for her.
    expect(rows.filter((row) => row.user_id === ids.dee)).toHaveLength(1);
    expect(rows.filter((row) => row.user_id === ids.dee)[0]?.revoked_at).not.toBeNull();

    const records = await grantRecords(url);
    expect(records).toEqual([
      {
        subject_service_id: tokensApp,
        actor_name: 'ops',
        details: { people: 2, until: line?.[1], standing_access_seconds: 86400 },
      },
    ]);

    const audit = await gateway(url, ['audit', 'query', '--kind', 'change', '--service', 'tokens-app', '--json']);
    expect(JSON.parse(audit.output).entries).toMatchObject([
      { action: 'services:grant-standing-access', actor: { kind: 'operator', name: 'ops' }, details: { people: 2 } },
    ]);

    const again = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.output)).toMatchObject({
      service: 'tokens-app',
      people: 0,
      standing_access_seconds: 2592000,
      standing_access_seconds_set: false,
      dry_run: false,
    });
    const text = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app']);
    expect(text.output).toMatch(/^Granted tokens-app standing access to 0 people until /);
    expect(await sessionsAt(url, tokensApp)).toHaveLength(3);
    expect(await grantRecords(url)).toHaveLength(1);
  });

  it('refuses STANDING_ACCESS_SECONDS=0 (a grant would give nothing) and a value the Worker would refuse', async () => {
    const off = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app'], {
      STANDING_ACCESS_SECONDS: '0',
    });
    expect(off.code).toBe(1);
    expect(off.output.trim()).toBe(
      'STANDING_ACCESS_SECONDS is 0: standing access ends with the session, so a grant would give nothing.',
    );
    const bad = await gateway(url, ['services', 'grant-standing-access', '--id', 'tokens-app'], {
      STANDING_ACCESS_SECONDS: '99999999',
    });
    expect(bad.code).toBe(2);
    expect(bad.output.trim()).toMatch(/^STANDING_ACCESS_SECONDS must be whole seconds from 0 to 15552000/);
  });
});
