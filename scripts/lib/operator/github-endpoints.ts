import type { GitHubEndpoints } from '../../../src/github/client.ts';
import { escapeControl } from '../../../src/validation/control-characters.ts';
import { isHttpsOrLoopbackHttp } from '../../../src/validation/loopback.ts';
import { rootDir } from './cli.ts';
import { MissingSettingError, readSetting } from './settings.ts';

const DEFAULT_API_URL = 'https://api.github.com';
const DEFAULT_OAUTH_URL = 'https://github.com';

/**
 * Where GitHub is, for an operator command that asks it something (an admission rule's lookup):
 * GITHUB_API_URL and GITHUB_OAUTH_URL from the environment or .dev.vars, as the Worker reads
 * them, with the Worker's defaults and its rule (https, or http only to the machine itself).
 */
export function operatorGitHubEndpoints(env: NodeJS.ProcessEnv = process.env): GitHubEndpoints {
  return {
    apiUrl: setting('GITHUB_API_URL', DEFAULT_API_URL, env),
    oauthUrl: setting('GITHUB_OAUTH_URL', DEFAULT_OAUTH_URL, env),
  };
}

function setting(name: string, fallback: string, env: NodeJS.ProcessEnv): string {
  const raw = readSetting(name, { rootDir, env });
  if (raw === undefined) return fallback;
  if (!URL.canParse(raw) || !isHttpsOrLoopbackHttp(new URL(raw))) {
    throw new MissingSettingError(
      `${name} must be an https URL (http only to localhost or 127.0.0.1), as the Worker's; got "${escapeControl(raw)}".`,
    );
  }
  return raw.replace(/\/+$/, '');
}
