import path from 'node:path';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
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

/** A setting the command needs is not set: the operator's invocation to fix (exit 2). */
export class MissingSettingError extends GatewayError<'missing_setting'> {
  constructor(message: string) {
    super('missing_setting', 'input', message);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}
