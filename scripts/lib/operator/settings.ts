import path from 'node:path';
import { readDevVars } from '../dev-vars.ts';

/**
 * A setting for an operator command: the environment first, then `.dev.vars` (as wrangler reads
 * it locally; DEV_VARS_FILE names another file). Empty values count as unset.
 */
export function readSetting(name: string, options: { rootDir: string; env?: NodeJS.ProcessEnv }): string | undefined {
  const env = options.env ?? process.env;
  const file = env.DEV_VARS_FILE
    ? path.resolve(options.rootDir, env.DEV_VARS_FILE)
    : path.join(options.rootDir, '.dev.vars');
  return nonEmpty(env[name]) ?? nonEmpty(readDevVars(file)[name]);
}

export class MissingSettingError extends Error {
  override name = 'MissingSettingError';
  readonly code = 'missing_setting';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}
