import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

const OCTO = '0b6f3a1e-7c2d-4e8f-9a10-2b3c4d5e6f70';
const PLANTED = '1c7f4b2f-8d3e-4f90-8b21-3c4d5e6f7081';
const TWIN_A = '2d805c30-9e4f-4a01-9c32-4d5e6f708192';
const TWIN_B = '3e916d41-af50-4b12-8d43-5e6f708192a3';
const NO_LOGIN = '4fa27e52-b061-4c23-9e54-6f708192a3b4';

type Entry = { user_id: string | null; user_login: string | null; request_id: string };
const audit = (url: string, ...args: string[]) => runOperatorCommand('audit-query', args, { DATABASE_URL: url });
const entries = async (url: string, ...args: string[]) =>
  (JSON.parse((await audit(url, '--json', ...args)).output) as { entries: Entry[] }).entries;

describe('gateway audit query names people by GitHub login', () => {
  let url: string;
  beforeAll(async () => {
    url = await createDatabase({ migrated: true });
    await withDatabaseHandle(url, async ({ db }) => {
      // Logins as the database holds them: the old system's rows too, so one carries control characters.
      await db.execute(sql`insert into users (id, github_user_id, github_login, created_at, updated_at)
        select id::uuid, github_id, login, now(), now() from (values
          (${OCTO}, '1', 'Octocat'), (${PLANTED}, '2', ${'evil\n\u001b[2Jrow'}),
          (${TWIN_A}, '3', 'twin'), (${TWIN_B}, '4', 'TWIN'), (${NO_LOGIN}, '5', null)) as t(id, github_id, login)`);
      await db.execute(sql`insert into service_audit_logs (id, user_id, action, success, metadata, created_at)
        select gen_random_uuid(), u, 'verify', true, jsonb_build_object('code', 'ok', 'requestId', 'req-' || n), now() - (n || ' seconds')::interval
          from (values (1, ${OCTO}::uuid), (2, ${PLANTED}::uuid), (3, ${NO_LOGIN}::uuid), (4, null::uuid), (5, ${OCTO}::uuid)) as t(n, u)`);
    });
  });

  it('--json and the table give each entry the login of its user id, null when unknown', async () => {
    expect(
      (await entries(url)).map(({ request_id, user_id, user_login }) => [request_id, user_id, user_login]),
    ).toEqual([
      ['req-1', OCTO, 'Octocat'],
      ['req-2', PLANTED, 'evil\n\u001b[2Jrow'],
      ['req-3', NO_LOGIN, null],
      ['req-4', null, null],
      ['req-5', OCTO, 'Octocat'],
    ]);
    const text = await audit(url);
    expect(text.code).toBe(0);
    const [header = '', ...rows] = text.output.trim().split('\n');
    expect(header).toMatch(/USER +LOGIN +IP/);
    expect(rows[0]).toMatch(new RegExp(`${OCTO} +Octocat `));
    // The planted login stays on its row, its escapes visible.
    expect(rows[1]).toContain(`${PLANTED}  evil\\n\\x1b[2Jrow`);
    expect(rows).toHaveLength(5 + 2); // the entries, a blank line, the count
  });

  it('--user takes a GitHub login (any case) and answers the entries of its one holder', async () => {
    expect((await entries(url, '--user', 'octocat')).map((entry) => entry.request_id)).toEqual(['req-1', 'req-5']);
    expect((await entries(url, '--user', OCTO)).map((entry) => entry.request_id)).toEqual(['req-1', 'req-5']);
  });

  it('--user with a login two people carry is refused (exit 1), naming both user ids', async () => {
    const refused = await audit(url, '--user', 'twin');
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('The login twin belongs to 2 people here');
    expect(refused.output).toContain(TWIN_A);
    expect(refused.output).toContain(TWIN_B);
  });

  it('--user with a login no one here carries is an error saying so (exit 1), never "0 entries"', async () => {
    const unknown = await audit(url, '--user', 'nobody-here');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('No one with the GitHub login nobody-here has signed in here');
    expect(unknown.output).not.toContain('0 entries');
  });

  it('--user that is neither a UUID nor a GitHub login is a usage error (exit 2) saying what it takes', async () => {
    const bad = await audit(url, '--user', 'not a login!');
    expect(bad.code).toBe(2);
    expect(bad.output).toContain("--user takes a person's id, a UUID such as");
    expect(bad.output).toContain('or their GitHub login');
  });
});
