import { runScript } from './child.ts';

/** Settings an operator command reads; none are inherited from the environment running the tests. */
const SETTINGS = ['DATABASE_URL', 'DIRECT_DATABASE_URL', 'TOKEN_ENCRYPTION_KEY', 'TOKEN_ENCRYPTION_PREVIOUS_KEYS'];

/** Runs an npm-script front end (`scripts/<name>.ts`) as its own process, the way an operator would. */
export async function runOperatorCommand(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.includes(name)));
  // A developer's own .dev.vars must not leak into what the command sees.
  const child = runScript(`scripts/${script}.ts`, args, {
    ...inherited,
    DEV_VARS_FILE: '/nonexistent/.dev.vars',
    ...env,
  });
  const code = await child.exited;
  return { code, output: child.output() };
}
