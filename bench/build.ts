import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BuiltWorker {
  scriptPath: string;
  rawBytes: number;
  gzipBytes: number;
}

/** A Worker (the gateway, or another wrangler config) bundled exactly as `wrangler deploy` would upload it (`--dry-run --outdir`). */
export function buildWorker(outDir: string, config?: string): BuiltWorker {
  const wrangler = path.resolve('node_modules/wrangler/bin/wrangler.js');
  const configArgs = config === undefined ? [] : ['--config', config];
  const result = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outDir, ...configArgs], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  // wrangler names the bundle after the entry point's file (index.js for the gateway's src/index.ts).
  const script = readdirSync(outDir).find((name) => name.endsWith('.js')) ?? 'index.js';
  const scriptPath = path.join(outDir, script);
  const bytes = readFileSync(scriptPath);
  return { scriptPath, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}
