import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { gatewayProgram } from '../../scripts/lib/operator/commands/program.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase } from '../support/node/databases.ts';

const GROUPS: Record<string, string[]> = {
  db: ['migrate', 'migrate-dev', 'status', 'resolve'],
  users: ['whitelist', 'unwhitelist'],
  services: ['register', 'list', 'update', 'rename', 'rotate-key', 'deactivate', 'activate', 'delete'],
  tokens: ['generate-key', 'generate-assertion-key', 'encrypt', 'rotate', 'detect-legacy'],
  audit: ['query'],
};

const gateway = (args: string[]) => runOperatorCommand('gateway', args, {});
const snakeCase = (key: string) => /^[a-z]+(_[a-z]+)*$/.test(key);
const keysOf = (value: object) => Object.keys(value);

describe('the gateway command', () => {
  it('gateway --help lists every group and the dev stack, exit 0', async () => {
    const result = await gateway(['--help']);
    expect(result.code).toBe(0);
    expect(result.output).toContain('Usage: gateway');
    for (const group of [...Object.keys(GROUPS), 'dev']) expect(result.output).toMatch(new RegExp(`^  ${group} `, 'm'));
  });

  it.each(Object.entries(GROUPS))('gateway %s --help lists its commands, exit 0', async (group, commands) => {
    const result = await gateway([group, '--help']);
    expect(result.code).toBe(0);
    expect(result.output).toContain(`Usage: gateway ${group}`);
    for (const command of commands) expect(result.output).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it.each(Object.entries(GROUPS).flatMap(([group, commands]) => commands.map((command) => [group, command])))(
    'gateway %s %s --help prints its usage and options, exit 0',
    async (group, command) => {
      const result = await gateway([group, command, '--help']);
      expect(result.code).toBe(0);
      expect(result.output).toContain(`Usage: gateway ${group} ${command}`);
      expect(result.output).toContain('-h, --help');
    },
  );

  it('--version prints package.json version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const result = await gateway(['--version']);
    expect([result.code, result.output.trim()]).toEqual([0, version]);
  });

  it.each([
    [['nonsense'], "unknown command 'nonsense'", 'Usage: gateway'],
    [['services', 'nonsense'], "unknown command 'nonsense'", 'Usage: gateway services'],
    [['services', 'list', '--colour'], "unknown option '--colour'", 'Usage: gateway services list'],
    [['db', 'resolve', '--applied'], "option '--applied <name>' argument missing", 'Usage: gateway db resolve'],
    [['db', 'migrate', 'extra'], 'too many arguments', 'Usage: gateway db migrate'],
  ])('%j exits 2 with the error and the usage', async (args, error, usage) => {
    const result = await gateway(args);
    expect(result.code).toBe(2);
    expect(result.output).toContain(error);
    expect(result.output).toContain(usage);
  });

  it('a group named without a command shows its help and exits 2', async () => {
    const result = await gateway(['services']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('Usage: gateway services');
  });
});

describe('gateway listings', () => {
  it('services list --json has the admin API fields in snake_case; the text table counts "1 service"', async () => {
    const url = await createDatabase({ migrated: true });
    const registered = await runOperatorCommand(
      'gateway',
      ['services', 'register', '--id', 'listed', '--redirect-uri', 'https://listed.example.com/cb'],
      { DATABASE_URL: url },
    );
    expect(registered.code).toBe(0);
    const json = await runOperatorCommand('gateway', ['services', 'list', '--json'], { DATABASE_URL: url });
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.output) as { services: Record<string, unknown>[] };
    expect(listed.services).toHaveLength(1);
    expect(listed.services[0]).toMatchObject({
      id: 'listed',
      name: 'listed',
      redirect_uris: ['https://listed.example.com/cb'],
      active: true,
      last_used_at: null,
    });
    expect(keysOf(listed.services[0] ?? {}).every(snakeCase)).toBe(true);
    const text = await runOperatorCommand('gateway', ['services', 'list'], { DATABASE_URL: url });
    expect(text.output.trim().split('\n').at(-1)).toBe('1 service.');
  });

  it('audit query --json has entries and next_cursor in snake_case; an empty log counts "0 entries"', async () => {
    const url = await createDatabase({ migrated: true });
    const json = await runOperatorCommand('gateway', ['audit', 'query', '--json'], { DATABASE_URL: url });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.output)).toEqual({ entries: [], next_cursor: null });
    const text = await runOperatorCommand('gateway', ['audit', 'query'], { DATABASE_URL: url });
    expect(text.output.trim()).toBe('0 entries.');
  });
});

describe('the gateway executable and the npm aliases', () => {
  it('npx gateway --help runs the bin in the checkout, exit 0', () => {
    const run = spawnSync('npx', ['gateway', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: gateway');
  });

  it('npm run services:list -- --help prints the help of gateway services list, exit 0', () => {
    const run = spawnSync('npm', ['run', '--silent', 'services:list', '--', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: gateway services list');
  });

  it('every npm alias of an operator command calls scripts/gateway.ts with a command that exists', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const aliases = Object.values(scripts).filter((script) => script.startsWith('node scripts/gateway.ts '));
    expect(aliases.length).toBeGreaterThanOrEqual(18);
    // Resolved against the program's own declarations, in this process: one process per alias
    // took 30 s on a loaded machine, and `--help` of each command is already run above.
    for (const alias of aliases) {
      const words = alias.replace('node scripts/gateway.ts ', '').split(' ');
      let command: Command | undefined = gatewayProgram();
      for (const word of words) command = command?.commands.find((sub) => sub.name() === word);
      expect([alias, command?.name()]).toEqual([alias, words.at(-1)]);
    }
  });
});
