// npm run services:list — every service, its scopes, return addresses, state and last use.
import { listServices } from '../src/services/admin.ts';
import { escapeControl } from '../src/validation/control-characters.ts';
import { parseFlags, runCommand } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

await runCommand(async () => {
  parseFlags({}, 'npm run services:list');
  const services = await withOperatorDatabase(({ db }) => listServices(db));
  if (services.length === 0) console.log('No services yet: npm run services:register -- --id ID --name NAME');
  // Everything printed from a row is escaped: a name or address planted in the database (the old
  // system's rows, a direct write) cannot forge a line such as "scopes: admin".
  const text = (values: string[], none: string, separator: string) => values.map(escapeControl).join(separator) || none;
  for (const service of services) {
    const state = service.isActive ? 'active' : 'DEACTIVATED';
    const key = service.legacyKey
      ? ', old-system key'
      : service.previousKeyExpiresAt
        ? `, previous key until ${service.previousKeyExpiresAt.toISOString()}`
        : '';
    console.log(`${escapeControl(service.identifier)}  (${escapeControl(service.displayName)}), ${state}${key}`);
    console.log(`  scopes: ${text(service.scopes, '(none)', ', ')}`);
    console.log(`  redirect URIs: ${text(service.redirectUris, '(none)', ' ')}`);
    console.log(`  last used: ${service.lastUsedAt?.toISOString() ?? 'never'}`);
  }
  return 0;
});
