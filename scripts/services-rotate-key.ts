// npm run services:rotate-key -- --id ID [--grace-hours H] — a new key; the old one works for H hours (default 24).
import { rotateServiceKey } from '../src/services/admin.ts';
import { parseFlags, runCommand, UsageError } from './lib/cli.ts';
import { withOperatorDatabase } from './lib/operator-database.ts';

const usage = 'npm run services:rotate-key -- --id <service id> [--grace-hours <hours, default 24>]';

await runCommand(async () => {
  const flags = parseFlags({ id: { type: 'string' }, 'grace-hours': { type: 'string', default: '24' } }, usage);
  const hours = Number(flags['grace-hours']);
  if (!flags.id || !Number.isFinite(hours) || hours < 0)
    throw new UsageError(`Name the service and a grace period in hours.\nUsage: ${usage}`);
  const rotated = await withOperatorDatabase(({ db }) =>
    rotateServiceKey(db, flags.id ?? '', Math.round(hours * 3600)),
  );
  console.log(`New key for ${flags.id}, shown this once:\n\n  ${rotated.key}\n`);
  console.log(
    rotated.previousKeyExpiresAt
      ? `The previous key keeps working until ${rotated.previousKeyExpiresAt.toISOString()}.`
      : 'The previous key no longer works.',
  );
  return 0;
});
