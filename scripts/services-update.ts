// npm run services:update -- --id ID [--scope S ...] [--redirect-uri URL ...] — replace scopes and/or return addresses.
import { updateServiceAccess } from '../src/services/admin.ts';
import { escapeControl } from '../src/validation/control-characters.ts';
import { parseFlags, runCommand, UsageError } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const usage =
  'npm run services:update -- --id <service id> [--scope <scope> ...] [--no-scopes] [--redirect-uri <url> ...] [--no-redirect-uris]';

await runCommand(async () => {
  const flags = parseFlags(
    {
      id: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'no-scopes': { type: 'boolean', default: false },
      'redirect-uri': { type: 'string', multiple: true },
      'no-redirect-uris': { type: 'boolean', default: false },
    },
    usage,
  );
  const scopes = flags['no-scopes'] ? [] : flags.scope;
  const redirectUris = flags['no-redirect-uris'] ? [] : flags['redirect-uri'];
  if (!flags.id || (scopes === undefined && redirectUris === undefined)) {
    throw new UsageError(`Name the service and what to set.\nUsage: ${usage}`);
  }
  const service = await withOperatorDatabase(({ db }) =>
    updateServiceAccess(db, flags.id ?? '', {
      ...(scopes ? { scopes } : {}),
      ...(redirectUris ? { redirectUris } : {}),
    }),
  );
  console.log(
    escapeControl(
      `${service.identifier}: scopes ${service.scopes.join(', ') || '(none)'}; redirect URIs ${service.redirectUris.join(' ') || '(none)'}`,
    ),
  );
  return 0;
});
