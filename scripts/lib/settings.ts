import path from 'node:path';
import { readDevVars } from './dev-vars.ts';

/**
 * A setting for an operator command: the environment first, then `.dev.vars` (as wrangler reads
 * it locally). Empty values count as unset.
 */
export function readSetting(name: string, options: { rootDir: string; env?: NodeJS.ProcessEnv }): string | undefined {
  const env = options.env ?? process.env;
  return nonEmpty(env[name]) ?? nonEmpty(readDevVars(path.join(options.rootDir, '.dev.vars'))[name]);
}

export class MissingSettingError extends Error {
  override name = 'MissingSettingError';
  readonly code = 'missing_setting';
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}
