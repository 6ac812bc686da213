import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { type DevStack, startDevStack } from '../../../scripts/lib/dev/dev-stack.ts';
import { findFreePort } from '../../../scripts/lib/dev/ports.ts';
import { readDevVars } from '../../../scripts/lib/dev-vars.ts';
import { openNodeDatabase } from '../../../scripts/lib/node-database.ts';
import { loadTokenKeyring } from '../../../src/crypto/token-cipher.ts';
import { registerService } from '../../../src/services/register-service.ts';
import { setEventsUrl } from '../../../src/services/service-events-endpoint.ts';
import { setWhitelisted } from '../../../src/users/whitelist.ts';
import { TEST_OPERATOR } from '../change-origin.ts';
import { launchChromium } from './browser.ts';
import { runOperatorCommand } from './commands.ts';
import { createDatabase } from './databases.ts';
import { type DemoService, startDemoService } from './demo-service.ts';

/**
 * The whole gateway as `npm run dev` wires it (wrangler dev, the bridge, the stand-in GitHub) on a
 * database of its own, two registered demo services a person can sign in to, each with its events
 * URL registered (as `gateway services events set` does) and its secret handed to it, and a Chromium.
 */
export interface JourneyStack {
  stack: DevStack;
  browser: Browser;
  /** Two services: Demo (id demo) and Wiki (id wiki). */
  demo: DemoService;
  wiki: DemoService;
  /** Lets a person in (after their first sign-in), as `gateway users whitelist` does. */
  whitelist(login: string): Promise<void>;
  /** Takes it back, as `gateway users unwhitelist` does. */
  unwhitelist(login: string): Promise<void>;
  /**
   * Runs `gateway ARGS...` as its own process against the stack's database, as an operator would
   * (`gateway users grant-operator LOGIN`); its output, or an error with it when it exits non-zero.
   */
  gateway(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

/** The operator's words on the pages (GATEWAY_NAME, GATEWAY_CONTACT), for the pictures. */
const OPERATOR_SETTINGS = 'GATEWAY_NAME="Acme sign-in"\nGATEWAY_CONTACT="Ask #it-help for access"\n';

export async function startJourneyStack(): Promise<JourneyStack> {
  const databaseUrl = await createDatabase({ migrated: true });
  const root = await mkdtemp(path.join(tmpdir(), 'gateway-journey-'));
  const devVarsFile = path.join(root, '.dev.vars');
  // Settings a Worker does not know yet are ignored by it; the stack adds the secrets it lacks.
  await writeFile(devVarsFile, OPERATOR_SETTINGS, { mode: 0o600 });
  const stack = await startDevStack({
    rootDir: path.resolve('.'),
    workerPort: await findFreePort(),
    postgresPort: await findFreePort(),
    bridgePort: await findFreePort(),
    standInGitHubPort: await findFreePort(),
    dataDir: path.join(root, 'pgdata'),
    devVarsFile,
    externalDatabaseUrl: databaseUrl,
    log: () => {},
  });
  const keys = new Map<string, string>();
  const eventsSecrets = new Map<string, string>();
  const demo = await startDemoService({
    gatewayUrl: stack.workerUrl,
    serviceId: 'demo',
    key: () => keys.get('demo') ?? '',
    eventsSecret: () => eventsSecrets.get('demo'),
  });
  const wiki = await startDemoService({
    gatewayUrl: stack.workerUrl,
    serviceId: 'wiki',
    name: 'Wiki',
    key: () => keys.get('wiki') ?? '',
    eventsSecret: () => eventsSecrets.get('wiki'),
  });
  // The key the stack generated for the Worker, to seal the events secrets as the Worker opens them.
  const keyring = await loadTokenKeyring(readDevVars(devVarsFile).TOKEN_ENCRYPTION_KEY ?? '');
  const database = await openNodeDatabase(databaseUrl);
  try {
    for (const [identifier, displayName, service] of [
      ['demo', 'Demo', demo],
      ['wiki', 'Wiki', wiki],
    ] as const) {
      const registered = await registerService(
        database.db,
        { identifier, displayName, scopes: ['users:verify'], redirectUris: [service.redirectUri] },
        TEST_OPERATOR,
      );
      keys.set(identifier, registered.key);
      const events = await setEventsUrl(database.db, keyring, identifier, service.eventsUrl, TEST_OPERATOR);
      if (events.secret === null) throw new Error(`${identifier} had an events secret already`);
      eventsSecrets.set(identifier, events.secret);
    }
  } finally {
    await database.close();
  }
  const browser = await launchChromium();
  const setWhitelist = async (login: string, whitelisted: boolean) => {
    const db = await openNodeDatabase(databaseUrl);
    try {
      if ((await setWhitelisted(db.db, { login }, whitelisted, TEST_OPERATOR)) === null)
        throw new Error(`${login} has not signed in yet: nobody to change`);
    } finally {
      await db.close();
    }
  };
  return {
    stack,
    browser,
    demo,
    wiki,
    whitelist: (login) => setWhitelist(login, true),
    unwhitelist: (login) => setWhitelist(login, false),
    gateway: async (...args) => {
      const { code, output } = await runOperatorCommand('gateway', args, { DATABASE_URL: databaseUrl });
      if (code !== 0) throw new Error(`gateway ${args.join(' ')} exited with ${code}:\n${output}`);
      return output;
    },
    close: async () => {
      await browser.close();
      await demo.close();
      await wiki.close();
      await stack.stop();
    },
  };
}
