// npm run db:migrate — production deploy: apply pending migrations only, never prompting.

import { escapeControl } from '../src/validation/control-characters.ts';
import { migrate } from './lib/migrations/engine.ts';
import { withMigrationSession } from './lib/migrations/session.ts';
import { migrationsDir, parseFlags, rootDir, runCommand } from './lib/operator/cli.ts';
import { describeDatabase, resolveDatabaseUrl } from './lib/operator/database-url.ts';

await runCommand(async () => {
  parseFlags({}, 'npm run db:migrate');
  const url = resolveDatabaseUrl({ rootDir, direct: true });
  console.log(`Migrating ${describeDatabase(url)}`);
  await withMigrationSession(url, ({ session }) =>
    migrate({ session, migrationsDir: migrationsDir(), log: (line) => console.log(escapeControl(line)) }),
  );
  return 0;
});
