import { execFile } from 'node:child_process';

/**
 * Whether worker-configuration.d.ts matches wrangler.toml as `npm run types` makes it:
 * `wrangler types --check` re-runs the command the file's header names (with .dev.vars.example,
 * never the developer's .dev.vars). Resolves true when the check itself cannot run: a hint that
 * cannot be trusted is not worth printing.
 */
export function workerTypesUpToDate(projectDir: string, wranglerEntry: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [wranglerEntry, 'types', '--check'],
      { cwd: projectDir, timeout: 60_000, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
      (error, stdout, stderr) => {
        if (!error) return resolve(true);
        resolve(!`${stdout}${stderr}`.includes('are out of date'));
      },
    );
  });
}
