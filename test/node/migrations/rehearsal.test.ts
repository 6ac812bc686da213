import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decryptToken,
  generateMasterKey,
  loadTokenKeyring,
  type TokenField,
} from '../../../src/crypto/token-cipher.ts';
import { type BuiltWorkerOnDatabase, startBuiltWorker } from '../../support/node/built-worker.ts';
import { runOperatorCommand } from '../../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../../support/node/databases.ts';
import { buildOldSystemDatabase, type OldSystemDatabase } from '../../support/node/old-system-database.ts';

/**
 * The cutover of docs/migrations.md, "Adopting the old system's database", rehearsed: a database
 * as the old system at v1.2 left it (test/support/node/old-system-database.ts: SQL, node:crypto and
 * bcryptjs only), then exactly the commands of the runbook's marked block, in order, as processes,
 * then proof that nothing was lost. The block is read from the document each run, so the test
 * follows it; a command in it that exits otherwise than the block says fails the test.
 */

const RUNBOOK = 'docs/migrations.md';
const MARKER = '<!-- rehearsal: commands';

interface RunbookCommand {
  /** The line as the document has it. */
  line: string;
  /** The arguments after `npx gateway`. */
  args: string[];
  /** From a trailing `# exit N`; 0 otherwise. */
  expectedCode: number;
}

/** The commands of the ```sh block after the rehearsal marker, refusing anything the test could not run as written. */
function runbookCommands(markdown: string): RunbookCommand[] {
  const marker = markdown.indexOf(MARKER);
  if (marker === -1) throw new Error(`${RUNBOOK} has no "${MARKER}" marker before its cutover commands`);
  const block = /```sh\n([\s\S]*?)```/.exec(markdown.slice(marker));
  if (!block?.[1]) throw new Error(`${RUNBOOK}: no \`\`\`sh block after the rehearsal marker`);
  const commands: RunbookCommand[] = [];
  for (const raw of block[1].split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [command = '', comment = ''] = line.split(/\s+#\s*/, 2);
    const words = /^npx gateway (\S.*)$/.exec(command);
    if (!words?.[1] || /["'$`|&;<>\\]/.test(command))
      throw new Error(`The rehearsal runs plain \`npx gateway ...\` commands only; cannot run: ${line}`);
    commands.push({ line, args: words[1].split(/\s+/), expectedCode: Number(/^exit (\d+)\b/.exec(comment)?.[1] ?? 0) });
  }
  return commands;
}

describe('runbookCommands', () => {
  it('reads the commands of the marked block in order, with the exit code a trailing "# exit N" gives, 0 otherwise', () => {
    const markdown = [
      '```sh',
      'npx gateway db migrate',
      '```',
      `${MARKER} -->`,
      '```sh',
      '# a comment line',
      'npx gateway db status   # exit 1: not yet',
      '',
      'npx gateway tokens encrypt --dry-run',
      '```',
    ].join('\n');
    expect(runbookCommands(markdown)).toEqual([
      { line: 'npx gateway db status   # exit 1: not yet', args: ['db', 'status'], expectedCode: 1 },
      { line: 'npx gateway tokens encrypt --dry-run', args: ['tokens', 'encrypt', '--dry-run'], expectedCode: 0 },
    ]);
  });

  it('refuses a line that is not a plain npx gateway command, naming it', () => {
    const block = (line: string) => `${MARKER} -->\n\`\`\`sh\n${line}\n\`\`\`\n`;
    expect(() => runbookCommands(block('export DATABASE_URL=x'))).toThrow('cannot run: export DATABASE_URL=x');
    expect(() => runbookCommands(block('npx gateway db status || true'))).toThrow('cannot run');
    expect(() => runbookCommands('no marker')).toThrow('no "<!-- rehearsal: commands" marker');
  });
});

describe("the cutover of docs/migrations.md, rehearsed on the old system's v1.2 database", () => {
  let old: OldSystemDatabase;
  let url: string;
  let worker: BuiltWorkerOnDatabase | undefined;
  const gatewayKey = generateMasterKey();
  const env = () => ({ DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: gatewayKey, LEGACY_TOKEN_KEY: old.legacyKey });

  beforeAll(async () => {
    url = await createDatabase({ migrated: false });
    old = await buildOldSystemDatabase(url);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
  });

  it('runs every command of the runbook in order, each exiting as the runbook says', async () => {
    const commands = runbookCommands(readFileSync(RUNBOOK, 'utf8'));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      const result = await runOperatorCommand('gateway', command.args, env());
      expect(result.code, `${command.line}\n${result.output}`).toBe(command.expectedCode);
      expect(result.output).not.toContain(old.legacyKey);
    }
  }, 240_000);

  it("leaves every person's token readable under the gateway's key, equal to the original, nulls null; a dry run then finds nothing left", async () => {
    const keyring = await loadTokenKeyring(gatewayKey);
    const rows = await withDatabaseHandle(url, async ({ db }) => {
      const result = await db.execute<{
        id: string;
        github_user_id: string;
        is_whitelisted: boolean;
        access_token: string | null;
        refresh_token: string | null;
      }>(
        sql`select id, github_user_id, is_whitelisted, access_token, refresh_token from users order by github_user_id`,
      );
      return result.rows;
    });
    const open = async (stored: string | null, field: TokenField, userId: string) =>
      stored === null ? null : (await decryptToken(stored, keyring, { field, userId })).plaintext;
    const carried = [];
    for (const row of rows)
      carried.push({
        id: row.id,
        githubUserId: row.github_user_id,
        whitelisted: row.is_whitelisted,
        accessToken: await open(row.access_token, 'access_token', row.id),
        refreshToken: await open(row.refresh_token, 'refresh_token', row.id),
      });
    expect(carried).toEqual([...old.people].sort((a, b) => a.githubUserId.localeCompare(b.githubUserId)));
    // The runbook's check: a dry run again finds nothing left to carry over and nothing it cannot open.
    const again = await runOperatorCommand('gateway', ['tokens', 'encrypt', '--dry-run'], env());
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('0 tokens would be encrypted');
    expect(again.output).toContain('0 tokens failed');
  });

  it('keeps every audit row the old system wrote, and the ledger is up to date (db status exits 0)', async () => {
    const ids = await withDatabaseHandle(url, async ({ db }) => {
      const result = await db.execute<{ id: string }>(sql`select id from service_audit_logs order by id`);
      return result.rows.map((row) => row.id);
    });
    expect(ids).toEqual([...old.auditRowIds].sort());
    const status = await runOperatorCommand('gateway', ['db', 'status'], env());
    expect(status.code, status.output).toBe(0);
    expect(status.output).toContain('Up to date');
  });

  it("verifies a whitelisted person through /v1/verify with every old service's key (TOKEN_PLAINTEXT=refuse)", async () => {
    worker = await startBuiltWorker(url, {
      TOKEN_ENCRYPTION_KEY: gatewayKey,
      SESSION_SECRET: generateMasterKey(),
      TOKEN_PLAINTEXT: 'refuse',
    });
    const admitted = old.people.find((person) => person.whitelisted);
    const pending = old.people.find((person) => !person.whitelisted);
    for (const service of old.services) {
      for (const [person, code] of [
        [admitted, 'ok'],
        [pending, 'not_whitelisted'],
      ] as const) {
        const response = await fetch(new URL('/v1/verify', worker.url), {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${service.key}`,
            'X-Gateway-Service': service.identifier,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ user_id: person?.id }),
        });
        expect({ service: service.identifier, status: response.status, body: await response.json() }).toMatchObject({
          service: service.identifier,
          status: 200,
          body: { valid: code === 'ok', code, user: { id: person?.id } },
        });
      }
    }
  }, 120_000);

  it('hands out a carried-over token by user id to the old service that fetches tokens (github:token), equal to the original; not to one without the scope', async () => {
    if (!worker) throw new Error('the Worker starts in the test before');
    const [fetcher, verifier] = old.services;
    const tokenFor = async (service: OldSystemDatabase['services'][number] | undefined, userId: string) => {
      const response = await fetch(new URL('/v1/github-token', worker?.url), {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${service?.key}`,
          'X-Gateway-Service': service?.identifier ?? '',
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ user_id: userId }),
      });
      const body = (await response.json()) as { access_token?: string; error?: { code: string } };
      return { status: response.status, token: body.access_token ?? body.error?.code };
    };
    const withTokens = old.people.filter((person) => person.whitelisted && person.accessToken !== null);
    expect(withTokens.length).toBeGreaterThan(1);
    for (const person of withTokens)
      expect({ person: person.id, ...(await tokenFor(fetcher, person.id)) }).toEqual({
        person: person.id,
        status: 200,
        token: person.accessToken,
      });
    const first = withTokens[0];
    expect(await tokenFor(verifier, first?.id ?? '')).toEqual({ status: 403, token: 'insufficient_scope' });
  }, 60_000);
});
