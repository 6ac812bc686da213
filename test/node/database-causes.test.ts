import { describe, expect, inject, it } from 'vitest';
import { withoutQuery } from '../../scripts/lib/operator/database-cause.ts';
import { generateMasterKey } from '../../src/crypto/token-cipher.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, repositoryMigrations } from '../support/node/databases.ts';

// Every operator command that reads the database, against each way a database can be wrong: the
// operator gets one line naming the cause and what to do, never drizzle's "Failed query: ...
// params:", never the password, and exit code 1.

const PASSWORD = 's3cret-pass';
const KEY = generateMasterKey();

/** The test server's URL with another password (one the server refuses). */
function wrongPasswordUrl(): string {
  const url = new URL(inject('adminDatabaseUrl'));
  url.password = PASSWORD;
  return url.toString();
}

/** A database name the server does not have, with the server's real credentials. */
function missingDatabaseUrl(): string {
  const url = new URL(inject('adminDatabaseUrl'));
  url.pathname = '/gw_test_no_such_database';
  return url.toString();
}

/** Where the URL points, as the messages name it: host:port/database. */
function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** Every command that opens the database, with arguments it accepts (so only the database can fail it). */
const COMMANDS: [command: string, args: string[]][] = [
  ['db migrate', []],
  ['db status', []],
  ['db resolve', ['--applied', '20241211000000_initial_setup']],
  ['services list', []],
  ['services register', ['--id', 'billing', '--redirect-uri', 'https://billing.example.com/cb']],
  ['services update', ['--id', 'billing', '--scope', 'users:verify']],
  ['services rotate-key', ['--id', 'billing']],
  ['services activate', ['--id', 'billing']],
  ['services deactivate', ['--id', 'billing']],
  ['users whitelist', ['octocat']],
  ['users unwhitelist', ['octocat']],
  ['audit query', []],
  ['tokens encrypt', []],
  ['tokens rotate', []],
];

/**
 * The migration commands bring an unmigrated database up to date rather than refuse it: migrate
 * applies everything, status lists it all as pending, resolve records what it is told. They are
 * checked against an unmigrated database by the test after the table.
 */
const MIGRATION_COMMANDS = new Set(['db migrate', 'db status', 'db resolve']);

/** The line a command prints before it opens the database (which database, which mode). */
const ANNOUNCEMENT = /^(Migrating|Encrypting GitHub tokens in|Rotating GitHub tokens in) /;

const FAULTS: [fault: string, url: () => Promise<string>, cause: (url: string) => string][] = [
  [
    'a stopped database (a closed port)',
    async () => `postgres://operator:${PASSWORD}@127.0.0.1:1/gateway`,
    () => 'Cannot reach the database at 127.0.0.1:1/gateway (connection refused)',
  ],
  ['a wrong password', async () => wrongPasswordUrl(), (url) => `The database at ${where(url)} refused the password`],
  [
    'a missing database',
    async () => missingDatabaseUrl(),
    (url) => `There is no database "gw_test_no_such_database" at ${where(url).replace(/\/.*$/, '')}`,
  ],
  [
    'an unmigrated database',
    async () => createDatabase({ migrated: false }),
    (url) => `The database at ${where(url)} has no gateway tables: run \`npx gateway db migrate\``,
  ],
];

describe('operator commands name the database fault in one line', () => {
  for (const [fault, makeUrl, cause] of FAULTS) {
    for (const [command, args] of COMMANDS) {
      if (fault === 'an unmigrated database' && MIGRATION_COMMANDS.has(command)) continue;
      it(`${command} against ${fault} exits 1 with one line naming the cause, no query and no password`, async () => {
        const url = await makeUrl();
        const result = await runOperatorCommand('gateway', [...command.split(' '), ...args], {
          DATABASE_URL: url,
          TOKEN_ENCRYPTION_KEY: KEY,
        });
        expect(result.code).toBe(1);
        expect(result.output).toContain(cause(url));
        expect(
          result.output
            .trim()
            .split('\n')
            .filter((line) => !ANNOUNCEMENT.test(line)),
        ).toHaveLength(1);
        expect(result.output).not.toContain('Failed query');
        expect(result.output).not.toContain('params:');
        expect(result.output).not.toContain(new URL(url).password);
      });
    }
  }

  it('db migrate against an unmigrated database applies every migration (exit 0); db status then says up to date', async () => {
    const url = await createDatabase({ migrated: false });
    const migrated = await runOperatorCommand('gateway', ['db', 'migrate'], { DATABASE_URL: url });
    expect(migrated.code).toBe(0);
    expect(migrated.output).toContain(`${repositoryMigrations().length} migrations applied.`);
    const status = await runOperatorCommand('gateway', ['db', 'status'], { DATABASE_URL: url });
    expect(status.code).toBe(0);
  });

  it('db status against an unmigrated database lists every migration as pending, says to run `npx gateway db migrate`, exit 1', async () => {
    const url = await createDatabase({ migrated: false });
    const result = await runOperatorCommand('gateway', ['db', 'status'], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`Not up to date: ${repositoryMigrations().length} pending.`);
    expect(result.output).toContain('run `npx gateway db migrate`');
  });

  it('db resolve against an unmigrated database refuses to mark a pending migration rolled back, exit 1', async () => {
    const url = await createDatabase({ migrated: false });
    const name = '20241211000000_initial_setup';
    const result = await runOperatorCommand('gateway', ['db', 'resolve', '--rolled-back', name], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`${name} is pending, not failed`);
  });

  it('db-migrate-status against a wrong password names the same cause as the other commands', async () => {
    const url = wrongPasswordUrl();
    const result = await runOperatorCommand('db-migrate-status', [], { DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.output).toContain(`The database at ${where(url)} refused the password`);
    expect(result.output).not.toContain(PASSWORD);
  });
});

describe('an unexplained database failure', () => {
  it("prints what the driver said instead of drizzle's query and its parameters", () => {
    const driver = Object.assign(new Error('value too long for type character varying(64)'), { code: '22001' });
    const drizzle = new Error('Failed query: select 1 where login = $1\nparams: octocat', { cause: driver });
    const message = withoutQuery(drizzle);
    expect(message).toBe('a database query failed: value too long for type character varying(64)');
    expect(message).not.toContain('octocat');
  });
});
