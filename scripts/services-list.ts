// npm run services:list — every service, its scopes, return addresses, state and last use.
import { listServices } from '../src/services/admin.ts';
import { parseFlags, runCommand } from './lib/cli.ts';
import { withOperatorDatabase } from './lib/operator-database.ts';

await runCommand(async () => {
  parseFlags({}, 'npm run services:list');
  const services = await withOperatorDatabase(({ db }) => listServices(db));
  if (services.length === 0) console.log('No services yet: npm run services:register -- --id ID --name NAME');
  for (const service of services) {
    const state = service.isActive ? 'active' : 'DEACTIVATED';
    const key = service.legacyKey
      ? ', old-system key'
      : service.previousKeyExpiresAt
        ? `, previous key until ${service.previousKeyExpiresAt.toISOString()}`
        : '';
    console.log(`${service.identifier}  (${service.displayName}), ${state}${key}`);
    console.log(`  scopes: ${service.scopes.join(', ') || '(none)'}`);
    console.log(`  redirect URIs: ${service.redirectUris.join(' ') || '(none)'}`);
    console.log(`  last used: ${service.lastUsedAt?.toISOString() ?? 'never'}`);
  }
  return 0;
});
