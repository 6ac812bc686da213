// npm run services:rotate-key -- --id ID [--grace-hours H] [--force] — a new key; the old one works for H hours (default 24).
import {
  DEFAULT_GRACE_SECONDS,
  MAX_GRACE_SECONDS,
  RotationInProgressError,
  rotateServiceKey,
} from '../src/services/admin.ts';
import { escapeControl } from '../src/validation/control-characters.ts';
import { numberFlag, parseFlags, runCommand, UsageError } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const MAX_HOURS = MAX_GRACE_SECONDS / 3600;
const DEFAULT_HOURS = DEFAULT_GRACE_SECONDS / 3600;
const usage = `npm run services:rotate-key -- --id <service id> [--grace-hours <whole hours, 0-${MAX_HOURS}, default ${DEFAULT_HOURS}>] [--force]`;

await runCommand(async () => {
  const flags = parseFlags(
    {
      id: { type: 'string' },
      'grace-hours': { type: 'string', default: String(DEFAULT_HOURS) },
      force: { type: 'boolean', default: false },
    },
    usage,
  );
  if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
  const hours = numberFlag(flags['grace-hours'], {
    name: 'grace-hours',
    min: 0,
    max: MAX_HOURS,
    unit: 'hours',
    usage,
  });
  const rotated = await withOperatorDatabase(({ db }) =>
    rotateServiceKey(db, flags.id ?? '', hours * 3600, new Date(), { force: flags.force ?? false }),
  ).catch((error: unknown) => {
    if (error instanceof RotationInProgressError) {
      error.message += ' Wait until then, or run again with --force to rotate now and end that key at once.';
    }
    throw error;
  });
  console.log(`New key for ${escapeControl(flags.id)}, shown this once:\n\n  ${rotated.key}\n`);
  console.log(
    rotated.previousKeyExpiresAt
      ? `The previous key keeps working until ${rotated.previousKeyExpiresAt.toISOString()}.`
      : 'The previous key no longer works.',
  );
  return 0;
});
