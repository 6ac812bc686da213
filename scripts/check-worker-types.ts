// Part of `npm run typecheck`: worker-configuration.d.ts must be what `npm run types` makes, not
// what a plain `npx wrangler types` (the command wrangler's own hints suggest) makes. wrangler's
// `--check` alone would call either up to date and name the wrong command (worker-types.ts).
import path from 'node:path';
import { workerTypesState } from './lib/dev/worker-types.ts';

const root = path.resolve(import.meta.dirname, '..');
const state = await workerTypesState(root, path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'));
if (state.upToDate === 'unknown') {
  console.error('Could not run `wrangler types --check` to compare worker-configuration.d.ts with wrangler.toml.');
  process.exit(1);
}
if (!state.upToDate) {
  console.error(state.problem);
  process.exit(1);
}
console.log('worker-configuration.d.ts is what `npm run types` makes from wrangler.toml.');
