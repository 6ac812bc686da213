// npm run services:deactivate -- --id ID   (services:activate the same, to undo)
import { setServiceActive } from '../src/services/admin.ts';
import { escapeControl } from '../src/validation/control-characters.ts';
import { parseFlags, runCommand, UsageError } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const activate = process.argv.includes('--activate');
const usage = `npm run services:${activate ? 'activate' : 'deactivate'} -- --id <service id>`;

await runCommand(async () => {
  const flags = parseFlags({ id: { type: 'string' }, activate: { type: 'boolean', default: false } }, usage);
  if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
  const service = await withOperatorDatabase(({ db }) => setServiceActive(db, flags.id ?? '', activate));
  const name = escapeControl(service.identifier);
  console.log(
    activate
      ? `${name} is active again.`
      : `${name} is deactivated: its key is refused (within VERIFY_CACHE_SECONDS on every gateway instance).`,
  );
  return 0;
});
