import type { Command } from 'commander';
import { listPeople, MAX_PEOPLE_PAGE, type Person } from '../../../../src/users/list-people.ts';
import { operatorsAmong, setOperatorGrant } from '../../../../src/users/operator-grant.ts';
import { personJson } from '../../../../src/users/person-json.ts';
import { type PersonRef, setWhitelisted } from '../../../../src/users/whitelist.ts';
import { setWhitelistedEach, type WhitelistOutcome } from '../../../../src/users/whitelist-people.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { GITHUB_ID_PATTERN, GITHUB_LOGIN_PATTERN } from '../../../../src/validation/github-identity.ts';
import { jsonForTerminal, numberFlag, runCommand, terminalMessage, UsageError } from '../cli.ts';
import { operatorMembershipBounds } from '../membership-bounds.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { operatorOrigin } from '../operator-origin.ts';
import { addRuleCommands } from './admission-rules.ts';
import { collect, count, formatTable, usageLine } from './shared.ts';

/** `gateway users ...`: the people who signed in, and the whitelist. */
export function addUserCommands(program: Command): void {
  const users = program
    .command('users')
    .description('who may sign in: the people who signed in, the whitelist, admission rules');
  addListCommand(users);
  addRuleCommands(users);
  addOperatorGrantCommands(users);
  for (const allowed of [true, false]) {
    users
      .command(allowed ? 'whitelist' : 'unwhitelist')
      .description(
        allowed
          ? 'let people in (after their first sign-in); a login two people carry is refused: use the id'
          : 'take people off the whitelist',
      )
      .usage('<github-login>... [--github-id <id>]... (at least one person)')
      .argument('[github-login...]', "the people's GitHub logins")
      .option('--github-id <id>', 'a numeric GitHub id (when a login is ambiguous; repeatable)', collect)
      .action((logins: string[], flags: { githubId?: string[] }, command: Command) =>
        runCommand(async () => {
          const people = peopleFrom(logins, flags.githubId ?? [], usageLine(command));
          // One origin for the whole command: each person's change record names the same operator.
          const origin = operatorOrigin();
          const outcomes = await withOperatorDatabase(({ db }) =>
            setWhitelistedEach(people, (person) => setWhitelisted(db, person, allowed, origin)),
          );
          for (const outcome of outcomes) reportOutcome(outcome, allowed);
          const refused = outcomes.filter(
            (outcome) => outcome.outcome === 'never_signed_in' || outcome.outcome === 'ambiguous',
          );
          const done = outcomes.length - refused.length;
          if (refused.length > 0 && outcomes.length > 1)
            console.error(
              `${refused.length} of ${outcomes.length} refused (above); ${done === 0 ? 'no one was changed' : `${count(done, 'other was', 'others were')} done`}.`,
            );
          return refused.length > 0 ? 1 : 0;
        }),
      );
  }
}

/**
 * `gateway users grant-operator` / `revoke-operator`: who may use the operator console (/console).
 * One person, by login or --github-id; the first operator is granted this way.
 */
function addOperatorGrantCommands(users: Command): void {
  for (const granted of [true, false]) {
    users
      .command(granted ? 'grant-operator' : 'revoke-operator')
      .description(
        granted
          ? 'let a person use the operator console (/console) while they are admitted; a login two people carry is refused: use the id'
          : 'take the operator console away from a person (within VERIFY_CACHE_SECONDS)',
      )
      .usage('<github-login> | --github-id <id>')
      .argument('[github-login]', "the person's GitHub login")
      .option('--github-id <id>', 'their numeric GitHub id (when a login is ambiguous)')
      .action((login: string | undefined, flags: { githubId?: string }, command: Command) =>
        runCommand(async () => {
          const usage = usageLine(command);
          const people = peopleFrom(login ? [login] : [], flags.githubId ? [flags.githubId] : [], usage);
          const [person] = people;
          if (!person || people.length > 1)
            throw new UsageError(`Name one person, by GitHub login or --github-id.\nUsage: ${usage}`);
          const origin = operatorOrigin();
          const outcome = await withOperatorDatabase(({ db }) => setOperatorGrant(db, person, granted, origin));
          if (!outcome) {
            const nobody =
              'login' in person ? `No one called ${person.login}` : `No one with GitHub id ${person.githubId}`;
            console.error(`${nobody} has signed in yet. Ask them to sign in once, then run this again.`);
            return 1;
          }
          const id = `GitHub id ${escapeControl(outcome.githubUserId)}`;
          const who = outcome.githubLogin === null ? id : `${escapeControl(outcome.githubLogin)} (${id})`;
          if (!outcome.changed)
            console.log(`${who} ${granted ? 'is already an operator' : 'was not an operator'}; nothing changed.`);
          else
            console.log(
              granted
                ? `${who} may now use the operator console at /console, while they are admitted.`
                : `${who} may no longer use the operator console.`,
            );
          return 0;
        }),
      );
  }
}

/** Every person named, logins first then ids, each checked before anything is changed. */
function peopleFrom(logins: string[], githubIds: string[], usage: string): PersonRef[] {
  for (const login of logins)
    if (!GITHUB_LOGIN_PATTERN.test(login))
      throw new UsageError(
        `"${escapeControl(login)}" is not a GitHub login; name people by login or --github-id.\nUsage: ${usage}`,
      );
  for (const id of githubIds)
    if (!GITHUB_ID_PATTERN.test(id))
      throw new UsageError(`--github-id takes a numeric GitHub id; got "${escapeControl(id)}".\nUsage: ${usage}`);
  if (logins.length + githubIds.length === 0)
    throw new UsageError(`Name at least one person by GitHub login or numeric id.\nUsage: ${usage}`);
  return [...logins.map((login) => ({ login })), ...githubIds.map((githubId) => ({ githubId }))];
}

/** One line per person: what became of them (a refusal on stderr). */
function reportOutcome(outcome: WhitelistOutcome, allowed: boolean): void {
  if (outcome.outcome === 'never_signed_in') {
    const nobody =
      'login' in outcome.person
        ? `No one called ${outcome.person.login}`
        : `No one with GitHub id ${outcome.person.githubId}`;
    console.error(
      `${nobody} has signed in yet. Ask them to sign in once (they will see the access-pending page), then run this again.`,
    );
    return;
  }
  if (outcome.outcome === 'ambiguous') {
    console.error(terminalMessage(outcome.error.message));
    return;
  }
  // The login comes from the database (the old system's rows too): printed escaped.
  const user = outcome.user;
  const id = `GitHub id ${escapeControl(user.githubUserId)}`;
  const who = user.githubLogin === null ? id : `${escapeControl(user.githubLogin)} (${id})`;
  if (outcome.outcome === 'unchanged')
    console.log(`${who} ${allowed ? 'is already allowed in' : 'was not allowed in'}; nothing changed.`);
  else console.log(`${who} is ${allowed ? 'now allowed in' : 'no longer allowed in'}.`);
}

function addListCommand(users: Command): void {
  users
    .command('list')
    .description('the people who signed in: why they are admitted, last sign-in, live sessions per service')
    .usage('[--pending] [--limit <1-500>] [--cursor <from the last page>] [--json]')
    .option('--pending', 'only people who signed in and were refused, newest first, to let them in', false)
    .option(`--limit <1-${MAX_PEOPLE_PAGE}>`, 'people per page', '100')
    .option('--cursor <cursor>', 'the next page, as the last page named it')
    .option('--json', "print JSON (the admin API's fields: people, next_cursor)", false)
    .action((flags: { pending: boolean; limit: string; cursor?: string; json: boolean }, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        const limit = numberFlag(flags.limit, { name: 'limit', min: 1, max: MAX_PEOPLE_PAGE, unit: 'people', usage });
        const bounds = operatorMembershipBounds();
        const { page, operators } = await withOperatorDatabase(async ({ db }) => {
          const listed = await listPeople(
            db,
            { pending: flags.pending, limit, ...(flags.cursor ? { cursor: flags.cursor } : {}) },
            bounds,
          );
          const ids = listed.people.map((person) => person.id);
          return { page: listed, operators: flags.json ? new Set<string>() : await operatorsAmong(db, ids) };
        });
        if (flags.json) {
          console.log(jsonForTerminal({ people: page.people.map(personJson), next_cursor: page.nextCursor }));
          return 0;
        }
        if (page.people.length === 0) {
          console.log(flags.pending ? 'No one is waiting to be let in.' : 'No one has signed in yet.');
          return 0;
        }
        // Every cell is escaped (formatTable): a login planted in the database cannot forge a row.
        console.log(
          formatTable(
            ['LOGIN', 'GITHUB ID', 'USER ID', 'ADMITTED', 'LAST SIGN-IN', 'LIVE SESSIONS'],
            page.people.map((person) => personRow(person, operators.has(person.id))),
          ),
        );
        const pending = page.people.filter((person) => person.admittedBy === null).length;
        const counted = flags.pending
          ? `${count(pending, 'person', 'people')} waiting to be let in`
          : `${count(page.people.length, 'person', 'people')}, ${pending} not admitted`;
        console.log(
          page.nextCursor
            ? `\n${counted} on this page. More: npx gateway users list${flags.pending ? ' --pending' : ''} --cursor ${terminalMessage(page.nextCursor)}`
            : `\n${counted}.`,
        );
        if (flags.pending) console.log(`To let them in: ${letInCommand(page.people)}`);
        return 0;
      }),
    );
}

function personRow(person: Person, operator: boolean): string[] {
  return [
    person.login ?? '(unknown)',
    person.githubId,
    person.id,
    // The console's grant, beside why they are admitted: it works only while they are.
    operator ? `${admissionCell(person)}; console operator` : admissionCell(person),
    person.lastSignInAt?.toISOString() ?? 'unknown',
    person.sessions.length === 0
      ? '-'
      : person.sessions
          .map((at) => `${at.service ?? '(gateway)'}: ${at.live} until ${at.latestExpiresAt.toISOString()}`)
          .join(', '),
  ];
}

/**
 * Why they are admitted, or the code refusing them, with the membership check's time when an org
 * or team rule's check decided it: "yes (members of acme, checked ...)", "no (not_a_member, ...)".
 */
function admissionCell(person: Person): string {
  const checked =
    person.membershipCheckedAt === null ? 'never checked' : `checked ${person.membershipCheckedAt.toISOString()}`;
  const by = person.admittedBy;
  if (by === null)
    return person.refusedCode === null || person.refusedCode === 'not_whitelisted'
      ? `no (${person.refusedCode ?? 'not admitted'})`
      : `no (${person.refusedCode}, ${checked})`;
  if (by.kind === 'whitelist') return 'yes (whitelist)';
  return by.throughCheck ? `yes (${by.admits}, ${checked})` : `yes (${by.admits})`;
}

/**
 * The command that lets these people in. Only a login or id that is a valid one is put in it (a
 * value planted in the database could otherwise carry shell syntax); a login that is not is named
 * by its GitHub id.
 */
function letInCommand(people: Person[]): string {
  const words: string[] = [];
  for (const person of people) {
    if (person.login !== null && GITHUB_LOGIN_PATTERN.test(person.login)) words.push(person.login);
    else if (GITHUB_ID_PATTERN.test(person.githubId)) words.push(`--github-id ${person.githubId}`);
  }
  return `npx gateway users whitelist ${words.join(' ')}`;
}
