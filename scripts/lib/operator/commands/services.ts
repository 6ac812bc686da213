import type { Command } from 'commander';
import {
  DEFAULT_GRACE_SECONDS,
  listServices,
  MAX_GRACE_SECONDS,
  RotationInProgressError,
  rotateServiceKey,
  type ServiceSummary,
  setServiceActive,
  updateServiceAccess,
} from '../../../../src/services/admin.ts';
import { KNOWN_SCOPES, registerService } from '../../../../src/services/register-service.ts';
import { serviceJson } from '../../../../src/services/service-json.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { jsonForTerminal, numberFlag, runCommand, UsageError } from '../cli.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { collect, count, formatTable, usageLine } from './shared.ts';

const MAX_HOURS = MAX_GRACE_SECONDS / 3600;
const DEFAULT_HOURS = DEFAULT_GRACE_SECONDS / 3600;

function serviceRow(service: ServiceSummary): string[] {
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
    ...(key ? [key] : []),
  ];
}

/** `gateway services ...`: the services that verify people through the gateway, and their keys. */
export function addServiceCommands(program: Command): void {
  const services = program.command('services').description('services: register, list, change, keys');

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
          registerService(db, {
            identifier,
            displayName: flags.name ?? identifier,
            scopes: flags.scope ?? ['users:verify'],
            redirectUris: flags.redirectUri ?? [],
          }),
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
          formatTable(['ID', 'NAME', 'STATE', 'SCOPES', 'LAST USED', 'REDIRECT URIS', 'KEY'], all.map(serviceRow)),
        );
        console.log(`\n${count(all.length, 'service')}.`);
        return 0;
      }),
    );

  services
    .command('update')
    .description('replace scopes and/or return addresses')
    .usage('--id <service id> [--scope <scope> ...] [--no-scopes] [--redirect-uri <url> ...] [--no-redirect-uris]')
    .option('--id <service id>', 'the service')
    .option('--scope <scope>', 'a scope of the new list (repeatable)', collect)
    .option('--no-scopes', 'take every scope away')
    .option('--redirect-uri <url>', 'a return address of the new list (repeatable)', collect)
    .option('--no-redirect-uris', 'take every return address away')
    .action(
      (
        flags: { id?: string; scope?: string[]; scopes: boolean; redirectUri?: string[]; redirectUris: boolean },
        command: Command,
      ) =>
        runCommand(async () => {
          const scopes = flags.scopes ? flags.scope : [];
          const redirectUris = flags.redirectUris ? flags.redirectUri : [];
          if (!flags.id || (scopes === undefined && redirectUris === undefined)) {
            throw new UsageError(`Name the service and what to set.\nUsage: ${usageLine(command)}`);
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
          rotateServiceKey(db, flags.id ?? '', hours * 3600, new Date(), { force: flags.force }),
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

  for (const activate of [false, true]) {
    services
      .command(activate ? 'activate' : 'deactivate')
      .description(activate ? 'accept its key again' : 'refuse its key (activate undoes it)')
      .usage('--id <service id>')
      .option('--id <service id>', 'the service')
      .action((flags: { id?: string }, command: Command) =>
        runCommand(async () => {
          if (!flags.id) throw new UsageError(`Name the service.\nUsage: ${usageLine(command)}`);
          const service = await withOperatorDatabase(({ db }) => setServiceActive(db, flags.id ?? '', activate));
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
