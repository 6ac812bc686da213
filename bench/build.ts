import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface BuiltWorker {
  scriptPath: string;
  rawBytes: number;
  gzipBytes: number;
}

/** The Worker bundled exactly as `wrangler deploy` would upload it (`--dry-run --outdir`). */
export function buildWorker(outDir: string): BuiltWorker {
  const wrangler = path.resolve('node_modules/wrangler/bin/wrangler.js');
  const result = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outDir], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  const scriptPath = path.join(outDir, 'index.js');
  const bytes = readFileSync(scriptPath);
  return { scriptPath, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}
