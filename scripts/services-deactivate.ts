// npm run services:deactivate -- --id ID   (services:activate the same, to undo)
import { setServiceActive } from '../src/services/admin.ts';
import { parseFlags, runCommand, UsageError } from './lib/cli.ts';
import { withOperatorDatabase } from './lib/operator-database.ts';

const activate = process.argv.includes('--activate');
const usage = `npm run services:${activate ? 'activate' : 'deactivate'} -- --id <service id>`;

await runCommand(async () => {
  const flags = parseFlags({ id: { type: 'string' }, activate: { type: 'boolean', default: false } }, usage);
  if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
  const service = await withOperatorDatabase(({ db }) => setServiceActive(db, flags.id ?? '', activate));
  console.log(
    activate
      ? `${service.identifier} is active again.`
      : `${service.identifier} is deactivated: its key is refused (within VERIFY_CACHE_SECONDS on every gateway instance).`,
  );
  return 0;
});
