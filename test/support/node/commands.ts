import { runScript } from './child.ts';

/** Settings an operator command reads; none are inherited from the environment running the tests. */
const SETTINGS = [
  'DATABASE_URL',
  'DIRECT_DATABASE_URL',
  'TOKEN_ENCRYPTION_KEY',
  'TOKEN_ENCRYPTION_PREVIOUS_KEYS',
  'LEGACY_TOKEN_KEY',
  'STANDING_ACCESS_SECONDS',
  // Where GitHub is (the membership checks) and who runs the command (its change records): a
  // developer's own would point a test at the real GitHub or name them in its records.
  'GITHUB_API_URL',
  'GITHUB_OAUTH_URL',
  'GATEWAY_OPERATOR',
];

/** The `gateway` command each of the old npm-script front ends became (the npm scripts are aliases of these). */
const GATEWAY_COMMAND: Record<string, string[]> = {
  'db-migrate': ['db', 'migrate'],
  'db-migrate-dev': ['db', 'migrate-dev'],
  'db-migrate-status': ['db', 'status'],
  'db-migrate-resolve': ['db', 'resolve'],
  'users-whitelist': ['users', 'whitelist'],
  'users-unwhitelist': ['users', 'unwhitelist'],
  'services-register': ['services', 'register'],
  'services-list': ['services', 'list'],
  'services-update': ['services', 'update'],
  'services-rotate-key': ['services', 'rotate-key'],
  'services-deactivate': ['services', 'deactivate'],
  'services-activate': ['services', 'activate'],
  'tokens-generate-key': ['tokens', 'generate-key'],
  'migrate-encrypt-tokens': ['tokens', 'encrypt'],
  'tokens-rotate': ['tokens', 'rotate'],
  'audit-query': ['audit', 'query'],
};

/**
 * The arguments of `scripts/gateway.ts` for a command named the old way (`services-list`, or
 * `users-whitelist --remove` / `services-deactivate --activate` for the undoing commands), or
 * given as the gateway's own words (`['services', 'list']` as `command` = 'gateway').
 */
export function gatewayArgs(command: string, args: string[]): string[] {
  if (command === 'gateway') return args;
  const undo = { 'users-whitelist': '--remove', 'services-deactivate': '--activate' }[command];
  const named =
    undo && args.includes(undo)
      ? command.replace(/whitelist$/, 'unwhitelist').replace(/deactivate$/, 'activate')
      : command;
  const words = GATEWAY_COMMAND[named];
  if (!words) throw new Error(`No gateway command for "${command}"`);
  return [...words, ...args.filter((arg) => !(undo && arg === undo))];
}

/** Runs a `gateway` command (scripts/gateway.ts) as its own process, the way an operator would. */
export async function runOperatorCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.includes(name)));
  // A developer's own .dev.vars must not leak into what the command sees.
  const child = runScript('scripts/gateway.ts', gatewayArgs(command, args), {
    ...inherited,
    DEV_VARS_FILE: '/nonexistent/.dev.vars',
    ...env,
  });
  const code = await child.exited;
  return { code, output: child.output() };
}
