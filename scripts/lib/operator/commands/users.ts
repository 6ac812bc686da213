import type { Command } from 'commander';
import { setWhitelisted } from '../../../../src/users/whitelist.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { parsePersonArgument, runCommand } from '../cli.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { usageLine } from './shared.ts';

/** `gateway users ...`: the whitelist. */
export function addUserCommands(program: Command): void {
  const users = program.command('users').description('who may sign in: the whitelist');
  for (const allowed of [true, false]) {
    users
      .command(allowed ? 'whitelist' : 'unwhitelist')
      .description(
        allowed
          ? 'let a person in (after their first sign-in); a login two people carry is refused: use the id'
          : 'take a person off the whitelist',
      )
      .usage('<github-login> | --github-id <id>')
      .argument('[github-login]', "the person's GitHub login")
      .option('--github-id <id>', "the person's numeric GitHub id (when a login is ambiguous)")
      .action((login: string | undefined, flags: { githubId?: string }, command: Command) =>
        runCommand(async () => {
          const person = parsePersonArgument(
            [
              ...(login === undefined ? [] : [login]),
              ...(flags.githubId === undefined ? [] : ['--github-id', flags.githubId]),
            ],
            usageLine(command),
          );
          const changed = await withOperatorDatabase(({ db }) => setWhitelisted(db, person, allowed));
          if (!changed) {
            const nobody =
              'login' in person ? `No one called ${person.login}` : `No one with GitHub id ${person.githubId}`;
            console.error(
              `${nobody} has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.`,
            );
            return 1;
          }
          // The login comes from the database (the old system's rows too): printed escaped.
          const id = `GitHub id ${escapeControl(changed.githubUserId)}`;
          const who = changed.githubLogin === null ? id : `${escapeControl(changed.githubLogin)} (${id})`;
          if (!changed.changed) {
            console.log(`${who} ${allowed ? 'is already allowed in' : 'was not allowed in'}; nothing changed.`);
            return 0;
          }
          console.log(`${who} is ${allowed ? 'now allowed in' : 'no longer allowed in'}.`);
          return 0;
        }),
      );
  }
}
