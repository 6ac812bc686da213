import { unstable_readConfig } from 'wrangler';

/**
 * A var as wrangler.toml deploys it, read by wrangler's own parser: the bench and the worker tests
 * run with the deployed value of settings whose value shapes what they measure or count.
 */
export function deployedVar(name: string, configPath = 'wrangler.toml'): string {
  const value = unstable_readConfig({ config: configPath }).vars[name];
  if (typeof value !== 'string') throw new Error(`${configPath} has no string var ${name} under [vars].`);
  return value;
}
