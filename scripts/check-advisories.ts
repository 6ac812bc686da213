// npm run audit:production — CI's check that no production dependency has a high or critical
// advisory (npm audit --omit=dev). Exit 1 when one has; exit 0 with a warning when the registry
// refuses to run the audit, because then there is nothing to judge (docs/decisions.md).
import { spawnSync } from 'node:child_process';
import { judgeAudit } from './lib/ci/advisory-report.ts';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
const verdict = judgeAudit(run.stdout);
if (verdict.kind === 'vulnerable') {
  console.error(`npm audit: high or critical advisories in production dependencies: ${verdict.packages.join(', ')}`);
  console.error('Run `npm audit --omit=dev` for details, then update or replace those packages.');
  process.exit(1);
}
if (verdict.kind === 'unavailable') {
  console.warn(`npm audit could not run here (${verdict.reason}); production dependencies were NOT checked.`);
} else {
  console.log(
    `npm audit: no high or critical advisories in production dependencies (${JSON.stringify(verdict.counts)}).`,
  );
}
