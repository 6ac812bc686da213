// npm run users:whitelist -- LOGIN | --github-id ID   (users:unwhitelist the same, to take it back)
import { setWhitelisted } from '../src/users/whitelist.ts';
import { escapeControl } from '../src/validation/control-characters.ts';
import { parsePersonArgument, runCommand } from './lib/operator/cli.ts';
import { withOperatorDatabase } from './lib/operator/operator-database.ts';

const allowed = !process.argv.includes('--remove');
const command = allowed ? 'users:whitelist' : 'users:unwhitelist';

await runCommand(async () => {
  const person = parsePersonArgument(
    process.argv.slice(2).filter((arg) => arg !== '--remove'),
    `npm run ${command} -- <github-login> | --github-id <id>`,
  );
  const changed = await withOperatorDatabase(({ db }) => setWhitelisted(db, person, allowed));
  const who = 'login' in person ? person.login : `GitHub id ${person.githubId}`;
  if (!changed) {
    console.error(
      `No one called ${who} has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.`,
    );
    return 1;
  }
  // The login comes from the database (the old system's rows too): printed escaped.
  console.log(
    `${escapeControl(changed.githubLogin ?? who)} (GitHub id ${escapeControl(changed.githubUserId)}) is ${allowed ? 'now allowed in' : 'no longer allowed in'}.`,
  );
  return 0;
});
