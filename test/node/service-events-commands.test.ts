import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { serviceRegistry } from '../../drizzle/schema.ts';
import { openEventsSecret } from '../../src/crypto/events-secret.ts';
import { generateMasterKey, loadTokenKeyring } from '../../src/crypto/token-cipher.ts';
import { runOperatorCommand } from '../support/node/commands.ts';
import { createDatabase, withDatabaseHandle } from '../support/node/databases.ts';

const SECRET = /whsec_[A-Za-z0-9+/]+={0,2}/g;

async function setUp() {
  const url = await createDatabase({ migrated: true });
  const env = { DATABASE_URL: url, TOKEN_ENCRYPTION_KEY: generateMasterKey() };
  const gateway = (...args: string[]) => runOperatorCommand('gateway', args, env);
  for (const id of ['billing', 'other'])
    expect((await gateway('services', 'register', '--id', id, '--name', id)).code).toBe(0);
  return { url, env, gateway };
}

const rowOf = (url: string, id: string) =>
  withDatabaseHandle(url, async ({ db }) => {
    const [row] = await db.select().from(serviceRegistry).where(eq(serviceRegistry.serviceIdentifier, id));
    if (!row) throw new Error(`no service ${id}`);
    return row;
  });

describe('gateway services events', { timeout: 120_000 }, () => {
  it('set prints a whsec_ secret once, sealed for that service; show --json, list and a second set never show it', async () => {
    const { url, env, gateway } = await setUp();
    const set = await gateway(
      'services',
      'events',
      'set',
      '--id',
      'billing',
      '--url',
      'https://billing.example.com/ev',
    );
    expect(set.code).toBe(0);
    const secrets = set.output.match(SECRET) ?? [];
    expect(secrets).toHaveLength(1);
    expect(set.output).toContain('Keep it as a secret of the service');
    const secret = secrets[0] ?? '';
    const keyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    const row = await rowOf(url, 'billing');
    const other = await rowOf(url, 'other');
    expect((await openEventsSecret(row.eventsSecret ?? '', keyring, row.id)).plaintext).toBe(secret);
    await expect(openEventsSecret(row.eventsSecret ?? '', keyring, other.id)).rejects.toThrow();

    const show = await gateway('services', 'events', 'show', '--id', 'billing', '--json');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.output)).toEqual({
      id: 'billing',
      events: { url: 'https://billing.example.com/ev', failing_since: null, undelivered: 0 },
      previous_secret_expires_at: null,
      deliveries: [],
    });
    const again = await gateway(
      'services',
      'events',
      'set',
      '--id',
      'billing',
      '--url',
      'https://billing.example.com/v2',
    );
    expect(again.code).toBe(0);
    const list = await gateway('services', 'list', '--json');
    const audit = await gateway('audit', 'query', '--kind', 'change', '--json');
    for (const output of [show.output, again.output, list.output, audit.output]) expect(output).not.toMatch(SECRET);
    expect(JSON.parse(list.output).services.find((s: { id: string }) => s.id === 'billing').events).toMatchObject({
      url: 'https://billing.example.com/v2',
    });
  });

  it('rotate-secret prints a new secret and the grace end; again is refused (exit 1) naming --force; clear ends the events', async () => {
    const { url, gateway } = await setUp();
    await gateway('services', 'events', 'set', '--id', 'billing', '--url', 'https://billing.example.com/ev');
    const rotated = await gateway('services', 'events', 'rotate-secret', '--id', 'billing', '--grace-seconds', '600');
    expect(rotated.code).toBe(0);
    expect(rotated.output.match(SECRET)).toHaveLength(1);
    expect(rotated.output).toMatch(/The previous secret also signs every delivery until \d{4}-/);
    const refused = await gateway('services', 'events', 'rotate-secret', '--id', 'billing');
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('--force');
    expect(refused.output).not.toMatch(SECRET);
    const forced = await gateway(
      'services',
      'events',
      'rotate-secret',
      '--id',
      'billing',
      '--grace-seconds',
      '0',
      '--force',
    );
    expect(forced.code).toBe(0);
    expect(forced.output).toContain('The previous secret no longer signs.');

    const cleared = await gateway('services', 'events', 'clear', '--id', 'billing');
    expect(cleared.code).toBe(0);
    expect(cleared.output).toContain('billing gets no more events; 0 undelivered events given up.');
    const row = await rowOf(url, 'billing');
    expect([row.eventsUrl, row.eventsSecret, row.eventsPreviousSecret]).toEqual([null, null, null]);
    const show = await gateway('services', 'events', 'show', '--id', 'billing');
    expect(show.output).toContain('billing has no events URL');
  });

  it('a bad URL is refused with a one-line message saying why; an unknown service with exit 1', async () => {
    const { gateway } = await setUp();
    const bad = await gateway('services', 'events', 'set', '--id', 'billing', '--url', 'http://billing.example.com/ev');
    expect(bad.code).toBe(2);
    expect(bad.output.trim().split('\n')).toHaveLength(1);
    expect(bad.output).toContain('must use https (http is allowed on localhost, 127.0.0.1 and [::1] only)');
    const unknown = await gateway('services', 'events', 'show', '--id', 'nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain('There is no service "nobody"');
  });

  it('services list marks a service whose deliveries have failed for over an hour', async () => {
    const { url, gateway } = await setUp();
    await gateway('services', 'events', 'set', '--id', 'billing', '--url', 'https://billing.example.com/ev');
    await gateway('services', 'events', 'set', '--id', 'other', '--url', 'https://other.example.com/ev');
    await withDatabaseHandle(url, async ({ db }) => {
      await db
        .update(serviceRegistry)
        .set({ eventsFailingSince: new Date(Date.now() - 2 * 3_600_000) })
        .where(eq(serviceRegistry.serviceIdentifier, 'billing'));
      await db
        .update(serviceRegistry)
        .set({ eventsFailingSince: new Date(Date.now() - 60_000) })
        .where(eq(serviceRegistry.serviceIdentifier, 'other'));
    });
    const list = await gateway('services', 'list');
    expect(list.code).toBe(0);
    expect(list.output).toMatch(/billing .*FAILING since/);
    expect(list.output).toMatch(/other .*failing since/);
    expect(list.output).toContain('billing: its events have failed to deliver for over an hour');
    expect(list.output).not.toContain('other: its events have failed');
  });

  it('tokens rotate re-seals events secrets (current and previous) written under a previous key, so that key can go', async () => {
    const { url, env, gateway } = await setUp();
    await gateway('services', 'events', 'set', '--id', 'billing', '--url', 'https://billing.example.com/ev');
    const rotated = await gateway('services', 'events', 'rotate-secret', '--id', 'billing', '--grace-seconds', '600');
    const secret = rotated.output.match(SECRET)?.[0] ?? '';
    const before = await rowOf(url, 'billing');
    const newKey = generateMasterKey();
    const run = await runOperatorCommand('gateway', ['tokens', 'rotate'], {
      ...env,
      TOKEN_ENCRYPTION_KEY: newKey,
      TOKEN_ENCRYPTION_PREVIOUS_KEYS: env.TOKEN_ENCRYPTION_KEY,
    });
    expect(run.code).toBe(0);
    expect(run.output).toContain('Events secrets: 2 secrets, 2 re-encrypted under the current key.');
    expect(run.output).not.toMatch(SECRET);
    const after = await rowOf(url, 'billing');
    const onlyNew = await loadTokenKeyring(newKey);
    const oldKeyring = await loadTokenKeyring(env.TOKEN_ENCRYPTION_KEY);
    expect((await openEventsSecret(after.eventsSecret ?? '', onlyNew, after.id)).plaintext).toBe(secret);
    expect((await openEventsSecret(after.eventsPreviousSecret ?? '', onlyNew, after.id)).plaintext).toBe(
      (await openEventsSecret(before.eventsPreviousSecret ?? '', oldKeyring, before.id)).plaintext,
    );
  });
});
