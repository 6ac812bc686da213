import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import {
  DEFAULT_GRACE_SECONDS,
  deleteService,
  editServiceAccess,
  listServices,
  MAX_GRACE_SECONDS,
  RotationInProgressError,
  renameService,
  rotateServiceKey,
  type ServiceSummary,
  setServiceActive,
  type UnneededEdit,
  updateServiceAccess,
} from '../../../../src/services/admin.ts';
import { grantStandingAccess } from '../../../../src/services/grant-standing-access.ts';
import { KNOWN_SCOPES, registerService } from '../../../../src/services/register-service.ts';
import { serviceJson } from '../../../../src/services/service-json.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { standingAccessSeconds } from '../../../../src/validation/standing-access-seconds.ts';
import { jsonForTerminal, numberFlag, rootDir, runCommand, UsageError } from '../cli.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { operatorOrigin } from '../operator-origin.ts';
import { MissingSettingError, readSetting } from '../settings.ts';
import { addServiceEventsCommands } from './services-events.ts';
import { collect, count, formatTable, usageLine } from './shared.ts';

const MAX_HOURS = MAX_GRACE_SECONDS / 3600;
const DEFAULT_HOURS = DEFAULT_GRACE_SECONDS / 3600;

function serviceRow(service: ServiceSummary, now: Date, withEvents: boolean): string[] {
  const key = service.legacyKey
    ? 'old-system key'
    : service.previousKeyExpiresAt
      ? `previous key until ${service.previousKeyExpiresAt.toISOString()}`
      : '';
  return [
    service.identifier,
    service.displayName,
    service.isActive ? 'active' : 'DEACTIVATED',
    service.scopes.join(',') || '(none)',
    service.lastUsedAt?.toISOString() ?? 'never',
    service.redirectUris.join(' ') || '(none)',
    key,
    // Only when some service has events: a table without them keeps its old columns.
    ...(withEvents ? [eventsCell(service, now)] : []),
  ];
}

/** An hour of failed deliveries is what docs/api.md says the operator is told of. */
const FAILING_REPORTED_AFTER_MS = 3_600_000;

function failingLong(service: ServiceSummary, now: Date): boolean {
  const since = service.events?.failingSince;
  return since !== undefined && since !== null && now.getTime() - since.getTime() >= FAILING_REPORTED_AFTER_MS;
}

function eventsCell(service: ServiceSummary, now: Date): string {
  const { events } = service;
  if (!events) return '';
  if (!events.failingSince) return `ok, ${events.undelivered} undelivered`;
  return `${failingLong(service, now) ? 'FAILING' : 'failing'} since ${events.failingSince.toISOString()}, ${events.undelivered} undelivered`;
}

interface UpdateFlags {
  id?: string;
  addScope?: string[];
  removeScope?: string[];
  addRedirectUri?: string[];
  removeRedirectUri?: string[];
  scope?: string[];
  scopes: boolean;
  redirectUri?: string[];
  redirectUris: boolean;
  json: boolean;
}

function printAccess(service: ServiceSummary, json: boolean): void {
  console.log(
    json
      ? jsonForTerminal(serviceJson(service))
      : escapeControl(
          `${service.identifier}: scopes ${service.scopes.join(', ') || '(none)'}; redirect URIs ${service.redirectUris.join(' ') || '(none)'}`,
        ),
  );
}

function unneededLine(identifier: string, edit: UnneededEdit): string {
  const what = `${edit.kind === 'scope' ? 'scope' : 'return address'} ${edit.value}`;
  return escapeControl(
    edit.state === 'present' ? `${identifier} already has ${what}.` : `${identifier} has no ${what}.`,
  );
}

/**
 * STANDING_ACCESS_SECONDS as the Worker reads it (the same bounds and default), from the
 * environment or .dev.vars like every operator setting, and whether it was set at all: the grant
 * is only as long as the Worker's own value, so the output says so when it took the default.
 */
function standingAccessSetting(): { seconds: number; set: boolean } {
  const raw = readSetting('STANDING_ACCESS_SECONDS', { rootDir });
  const parsed = standingAccessSeconds.safeParse(raw);
  if (!parsed.success)
    throw new MissingSettingError(
      `STANDING_ACCESS_SECONDS must be whole seconds from 0 to 15552000 (180 days), as the Worker's; got "${escapeControl(raw ?? '')}".`,
    );
  return { seconds: parsed.data, set: raw !== undefined };
}

/** Asks y/N on the terminal: anything but y or yes is no. */
async function confirmed(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/** `gateway services ...`: the services that verify people through the gateway, and their keys. */
export function addServiceCommands(program: Command): void {
  const services = program.command('services').description('services: register, list, change, keys, events');
  addServiceEventsCommands(services);

  services
    .command('register')
    .description("register a service; prints its key once (store it as the service's secret)")
    .usage(`--id <id> [--name <display name>] [--redirect-uri <url> ...] [--scope <${KNOWN_SCOPES.join('|')}> ...]`)
    .option('--id <id>', "the service's id, as it names itself when it calls")
    .option('--name <display name>', 'the name people see (default: the id)')
    .option('--redirect-uri <url>', 'a return address after sign-in (repeatable)', collect)
    .option(
      '--scope <scope>',
      `what it may do (repeatable): ${KNOWN_SCOPES.join(', ')} (default: users:verify)`,
      collect,
    )
    .action((flags: { id?: string; name?: string; redirectUri?: string[]; scope?: string[] }, command: Command) =>
      runCommand(async () => {
        const identifier = flags.id;
        if (identifier === undefined)
          throw new UsageError(
            `Name the service with --id (how it names itself when it calls).\nUsage: ${usageLine(command)}`,
          );
        const service = await withOperatorDatabase(({ db }) =>
          registerService(
            db,
            {
              identifier,
              displayName: flags.name ?? identifier,
              scopes: flags.scope ?? ['users:verify'],
              redirectUris: flags.redirectUri ?? [],
            },
            operatorOrigin(),
          ),
        );
        console.log(
          `Registered service "${service.identifier}". Its key, shown this once (store it as the service's secret):\n`,
        );
        console.log(`  ${service.key}\n`);
        return 0;
      }),
    );

  services
    .command('list')
    .description('every service: its state, scopes, last use and return addresses')
    .option('--json', "print JSON (the admin API's fields: id, name, scopes, redirect_uris, ...)", false)
    .action((flags: { json: boolean }) =>
      runCommand(async () => {
        const all = await withOperatorDatabase(({ db }) => listServices(db));
        const now = new Date();
        const withEvents = all.some((service) => service.events !== null);
        if (flags.json) {
          console.log(jsonForTerminal({ services: all.map(serviceJson) }));
          return 0;
        }
        if (all.length === 0) {
          console.log('No services yet: gateway services register --id ID --name NAME');
          return 0;
        }
        // Every cell is escaped (formatTable): a name or address planted in the database (the old
        // system's rows, a direct write) cannot forge a row such as "scopes: admin".
        console.log(
          formatTable(
            ['ID', 'NAME', 'STATE', 'SCOPES', 'LAST USED', 'REDIRECT URIS', 'KEY', ...(withEvents ? ['EVENTS'] : [])],
            all.map((service) => serviceRow(service, now, withEvents)),
          ),
        );
        for (const service of all.filter((s) => failingLong(s, now)))
          console.log(
            escapeControl(
              `${service.identifier}: its events have failed to deliver for over an hour; \`npx gateway services events show --id ${service.identifier}\` shows why.`,
            ),
          );
        console.log(`\n${count(all.length, 'service')}.`);
        return 0;
      }),
    );

  services
    .command('update')
    .description('add or remove scopes and return addresses one at a time, or replace the whole lists')
    .usage(
      '--id <service id> [--add-scope <scope> ...] [--remove-scope <scope> ...] [--add-redirect-uri <url> ...] [--remove-redirect-uri <url> ...] | [--scope <scope> ...] [--no-scopes] [--redirect-uri <url> ...] [--no-redirect-uris]',
    )
    .option('--id <service id>', 'the service')
    .option('--add-scope <scope>', `a scope to add (repeatable): ${KNOWN_SCOPES.join(', ')}`, collect)
    .option('--remove-scope <scope>', 'a scope to take away (repeatable)', collect)
    .option('--add-redirect-uri <url>', 'a return address to add (repeatable)', collect)
    .option('--remove-redirect-uri <url>', 'a return address to take away (repeatable)', collect)
    .option('--scope <scope>', 'a scope of the new list, replacing the old one (repeatable)', collect)
    .option('--no-scopes', 'take every scope away')
    .option('--redirect-uri <url>', 'a return address of the new list, replacing the old one (repeatable)', collect)
    .option('--no-redirect-uris', 'take every return address away')
    .option('--json', 'print the changed service as JSON (as `services list --json` does)', false)
    .action((flags: UpdateFlags, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        if (!flags.id) throw new UsageError(`Name the service with --id.\nUsage: ${usage}`);
        const identifier = flags.id;
        const scopes = flags.scopes ? flags.scope : [];
        const redirectUris = flags.redirectUris ? flags.redirectUri : [];
        const edits = {
          addScopes: flags.addScope ?? [],
          removeScopes: flags.removeScope ?? [],
          addRedirectUris: flags.addRedirectUri ?? [],
          removeRedirectUris: flags.removeRedirectUri ?? [],
        };
        const editing = Object.values(edits).some((list) => list.length > 0);
        const replacing = scopes !== undefined || redirectUris !== undefined;
        if (editing && replacing)
          throw new UsageError(
            `--scope replaces the whole list (and --redirect-uri, --no-scopes, --no-redirect-uris too): use them without --add-*/--remove-*.\nUsage: ${usage}`,
          );
        if (!editing && !replacing) throw new UsageError(`Say what to change.\nUsage: ${usage}`);
        if (replacing) {
          const service = await withOperatorDatabase(({ db }) =>
            updateServiceAccess(
              db,
              identifier,
              {
                ...(scopes ? { scopes } : {}),
                ...(redirectUris ? { redirectUris } : {}),
              },
              operatorOrigin(),
            ),
          );
          printAccess(service, flags.json);
          return 0;
        }
        const outcome = await withOperatorDatabase(({ db }) =>
          editServiceAccess(db, identifier, edits, operatorOrigin()),
        );
        if (!flags.json) {
          for (const edit of outcome.unneeded) console.log(unneededLine(outcome.service.identifier, edit));
          if (!outcome.written) {
            console.log('Nothing changed.');
            return 0;
          }
        }
        printAccess(outcome.service, flags.json);
        return 0;
      }),
    );

  services
    .command('rename')
    .description('change the name people see (the id the service calls itself by stays)')
    .usage('--id <service id> --name <display name> [--json]')
    .option('--id <service id>', 'the service')
    .option('--name <display name>', 'the new name people see')
    .option('--json', 'print the changed service as JSON', false)
    .action((flags: { id?: string; name?: string; json: boolean }, command: Command) =>
      runCommand(async () => {
        const { id, name } = flags;
        if (!id || name === undefined)
          throw new UsageError(`Name the service (--id) and its new name (--name).\nUsage: ${usageLine(command)}`);
        const service = await withOperatorDatabase(({ db }) => renameService(db, id, name, operatorOrigin()));
        console.log(
          flags.json
            ? jsonForTerminal(serviceJson(service))
            : escapeControl(`${service.identifier} is now called ${JSON.stringify(service.displayName)}.`),
        );
        return 0;
      }),
    );

  services
    .command('delete')
    .description('remove a service for good: its key never works again; its audit rows stay')
    .usage('--id <service id> [--yes] [--json]')
    .option('--id <service id>', 'the service')
    .option('--yes', 'do not ask (needed when not on a terminal)', false)
    .option('--json', 'print the deleted service as JSON', false)
    .action((flags: { id?: string; yes: boolean; json: boolean }, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        const { id } = flags;
        if (!id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
        if (!flags.yes) {
          // The usual convention (gh, npm): ask y/N on a terminal; elsewhere refuse and name --yes.
          if (!process.stdin.isTTY)
            throw new UsageError(
              `Deleting a service cannot be undone: add --yes to confirm (not on a terminal, it cannot ask).\nUsage: ${usage}`,
            );
          if (!(await confirmed(`Delete service ${escapeControl(id)}? Its key stops working for good.`))) {
            console.log('Not deleted.');
            return 1;
          }
        }
        const deleted = await withOperatorDatabase(({ db }) => deleteService(db, id, operatorOrigin()));
        console.log(
          flags.json
            ? jsonForTerminal({ ...serviceJson(deleted), deleted_at: deleted.deletedAt.toISOString() })
            : `${escapeControl(deleted.identifier)} is deleted: its key is refused (within VERIFY_CACHE_SECONDS on every gateway instance), its sessions ended; its audit rows stay (\`npx gateway audit query --service ${escapeControl(deleted.identifier)}\`).`,
        );
        return 0;
      }),
    );

  services
    .command('rotate-key')
    .description('a new key; the old one keeps working for the grace period')
    .usage(`--id <service id> [--grace-hours <whole hours, 0-${MAX_HOURS}, default ${DEFAULT_HOURS}>] [--force]`)
    .option('--id <service id>', 'the service')
    .option('--grace-hours <hours>', `how long the old key keeps working, 0-${MAX_HOURS}`, String(DEFAULT_HOURS))
    .option('--force', "rotate even while an earlier rotation's grace period runs (ending that older key now)", false)
    .action((flags: { id?: string; graceHours: string; force: boolean }, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
        const hours = numberFlag(flags.graceHours, {
          name: 'grace-hours',
          min: 0,
          max: MAX_HOURS,
          unit: 'hours',
          usage,
        });
        const rotated = await withOperatorDatabase(({ db }) =>
          rotateServiceKey(db, flags.id ?? '', hours * 3600, new Date(), {
            force: flags.force,
            origin: operatorOrigin(),
          }),
        ).catch((error: unknown) => {
          if (error instanceof RotationInProgressError) {
            error.message += ' Wait until then, or run again with --force to rotate now and end that key at once.';
          }
          throw error;
        });
        console.log(`New key for ${escapeControl(flags.id)}, shown this once:\n\n  ${rotated.key}\n`);
        console.log(
          rotated.previousKeyExpiresAt
            ? `The previous key keeps working until ${rotated.previousKeyExpiresAt.toISOString()}.`
            : 'The previous key no longer works.',
        );
        return 0;
      }),
    );

  services
    .command('grant-standing-access')
    .description(
      "give a github:token service standing access to every whitelisted person with a token who has no session with it (the old system's services, at the cutover)",
    )
    .usage('--id <service id> [--dry-run] [--json]')
    .option('--id <service id>', 'the service (it needs the scope github:token)')
    .option('--dry-run', 'count the people it would reach; write nothing', false)
    .option('--json', 'print { service, people, until, standing_access_seconds, ... } as JSON', false)
    .action((flags: { id?: string; dryRun: boolean; json: boolean }, command: Command) =>
      runCommand(async () => {
        if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usageLine(command)}`);
        const identifier = flags.id;
        const setting = standingAccessSetting();
        const grant = await withOperatorDatabase(({ db }) =>
          grantStandingAccess(db, identifier, {
            standingAccessSeconds: setting.seconds,
            dryRun: flags.dryRun,
            origin: operatorOrigin(),
          }),
        );
        if (flags.json) {
          console.log(
            jsonForTerminal({
              service: identifier,
              people: grant.people,
              until: grant.until.toISOString(),
              standing_access_seconds: setting.seconds,
              standing_access_seconds_set: setting.set,
              dry_run: grant.dryRun,
            }),
          );
          return 0;
        }
        const name = escapeControl(identifier);
        const seconds = setting.set
          ? `STANDING_ACCESS_SECONDS=${setting.seconds}`
          : `STANDING_ACCESS_SECONDS not set here: the default ${setting.seconds}, 30 days; the Worker's own value must match`;
        const whom = `${count(grant.people, 'person', 'people')} until ${grant.until.toISOString()} (${seconds})`;
        console.log(
          grant.dryRun
            ? `Would grant ${name} standing access to ${whom}; nothing written (dry run).`
            : `Granted ${name} standing access to ${whom}; they can end it from their landing page.`,
        );
        return 0;
      }),
    );

  for (const activate of [false, true]) {
    services
      .command(activate ? 'activate' : 'deactivate')
      .description(activate ? 'accept its key again' : 'refuse its key (activate undoes it)')
      .usage('--id <service id>')
      .option('--id <service id>', 'the service')
      .action((flags: { id?: string }, command: Command) =>
        runCommand(async () => {
          if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usageLine(command)}`);
          const service = await withOperatorDatabase(({ db }) =>
            setServiceActive(db, flags.id ?? '', activate, operatorOrigin()),
          );
          const name = escapeControl(service.identifier);
          console.log(
            activate
              ? `${name} is active again.`
              : `${name} is deactivated: its key is refused (within VERIFY_CACHE_SECONDS on every gateway instance).`,
          );
          return 0;
        }),
      );
  }
}
