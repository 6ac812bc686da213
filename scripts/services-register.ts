// npm run services:register -- --id ID --name "Name" [--redirect-uri URL ...] [--scope SCOPE ...]
import { KNOWN_SCOPES, registerService } from '../src/services/register-service.ts';
import { parseFlags, runCommand } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const usage = `npm run services:register -- --id <id> --name <display name> [--redirect-uri <url> ...] [--scope <${KNOWN_SCOPES.join('|')}> ...]`;

await runCommand(async () => {
  const flags = parseFlags(
    {
      id: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      scope: { type: 'string', multiple: true, default: ['users:verify'] },
    },
    usage,
  );
  const service = await withOperatorDatabase(({ db }) =>
    registerService(db, {
      identifier: flags.id ?? '',
      displayName: flags.name ?? flags.id ?? '',
      scopes: flags.scope ?? [],
      redirectUris: flags['redirect-uri'] ?? [],
    }),
  );
  console.log(
    `Registered service "${service.identifier}". Its key, shown this once (store it as the service's secret):\n`,
  );
  console.log(`  ${service.key}\n`);
  return 0;
});
