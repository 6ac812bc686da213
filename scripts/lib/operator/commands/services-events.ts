import type { Command } from 'commander';
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from '../../../../src/services/admin.ts';
import { eventsJson } from '../../../../src/services/events-summary.ts';
import {
  clearEvents,
  deliveryJson,
  EventsRotationInProgressError,
  rotateEventsSecret,
  setEventsUrl,
  showEvents,
} from '../../../../src/services/service-events-endpoint.ts';
import { escapeControl } from '../../../../src/validation/control-characters.ts';
import { jsonForTerminal, numberFlag, runCommand, UsageError } from '../cli.ts';
import { withOperatorDatabase } from '../operator-database.ts';
import { operatorOrigin } from '../operator-origin.ts';
import { configuredKeyring } from '../token-commands.ts';
import { count, formatTable, usageLine } from './shared.ts';

/** How many deliveries `events show` lists: the recent ones (the admin API pages through all). */
const SHOWN_DELIVERIES = 20;

function secretLines(identifier: string, secret: string): string {
  return (
    `The signing secret of ${escapeControl(identifier)}'s events, shown this once:\n\n  ${secret}\n\n` +
    'Keep it as a secret of the service (it verifies every delivery); it is never shown again.'
  );
}

/** `gateway services events ...`: where a service's events go (docs/api.md, "Events pushed to your service"). */
export function addServiceEventsCommands(services: Command): void {
  const events = services.command('events').description("a service's events URL, its signing secret and deliveries");

  events
    .command('set')
    .description('send the service its events at this URL (prints a new signing secret the first time)')
    .usage('--id <service id> --url <https url>')
    .option('--id <service id>', 'the service')
    .option('--url <url>', 'https:// (http:// on localhost for development)')
    .action((flags: { id?: string; url?: string }, command: Command) =>
      runCommand(async () => {
        const { id, url } = flags;
        if (!id || url === undefined)
          throw new UsageError(`Name the service (--id) and its events URL (--url).\nUsage: ${usageLine(command)}`);
        const keyring = await configuredKeyring();
        const set = await withOperatorDatabase(({ db }) => setEventsUrl(db, keyring, id, url, operatorOrigin()));
        console.log(escapeControl(`${id}'s events go to ${set.events.url}.`));
        if (set.secret) console.log(secretLines(id, set.secret));
        else console.log('Its signing secret stays as it was (`services events rotate-secret` makes a new one).');
        return 0;
      }),
    );

  events
    .command('show')
    .description('its events URL, since when deliveries fail, how many are undelivered, and recent deliveries')
    .usage('--id <service id> [--json]')
    .option('--id <service id>', 'the service')
    .option('--json', 'print { events, previous_secret_expires_at, deliveries } as JSON', false)
    .action((flags: { id?: string; json: boolean }, command: Command) =>
      runCommand(async () => {
        const { id } = flags;
        if (!id) throw new UsageError(`Name the service.\nUsage: ${usageLine(command)}`);
        const shown = await withOperatorDatabase(({ db }) => showEvents(db, id, { limit: SHOWN_DELIVERIES }));
        if (flags.json) {
          console.log(
            jsonForTerminal({
              id,
              events: shown.events ? eventsJson(shown.events) : null,
              previous_secret_expires_at: shown.previousSecretExpiresAt?.toISOString() ?? null,
              deliveries: shown.deliveries.map(deliveryJson),
            }),
          );
          return 0;
        }
        const name = escapeControl(id);
        if (!shown.events) console.log(`${name} has no events URL: it gets no events.`);
        else {
          const { url, failingSince, undelivered } = shown.events;
          console.log(escapeControl(`${id}: events go to ${url}`));
          console.log(failingSince ? `  failing since ${failingSince.toISOString()}` : '  deliveries succeed');
          console.log(`  ${count(undelivered, 'event')} undelivered`);
          if (shown.previousSecretExpiresAt)
            console.log(`  the previous secret also signs until ${shown.previousSecretExpiresAt.toISOString()}`);
        }
        if (shown.deliveries.length === 0) {
          console.log('No deliveries yet.');
          return 0;
        }
        console.log(
          `\n${formatTable(
            ['EVENT', 'TYPE', 'CREATED', 'ATTEMPTS', 'STATE', 'LAST ATTEMPT'],
            shown.deliveries.map((d) => [
              d.id,
              d.type,
              d.createdAt.toISOString(),
              String(d.attempts),
              d.deliveredAt
                ? `delivered ${d.deliveredAt.toISOString()}`
                : d.givenUpAt
                  ? `given up ${d.givenUpAt.toISOString()}`
                  : `next ${d.nextAttemptAt?.toISOString() ?? ''}`,
              d.lastAttempt
                ? `${d.lastAttempt.at.toISOString()} ${d.lastAttempt.status ?? '-'} ${d.lastAttempt.error ?? 'ok'} ${d.lastAttempt.durationMs} ms`
                : '(none)',
            ]),
          )}`,
        );
        if (shown.nextCursor)
          console.log(
            `\nThe ${SHOWN_DELIVERIES} latest; GET /v1/admin/services/{id}/events/deliveries pages through all.`,
          );
        return 0;
      }),
    );

  events
    .command('rotate-secret')
    .description('a new signing secret; the old one also signs for the grace period')
    .usage(`--id <service id> [--grace-seconds <0-${MAX_GRACE_SECONDS}, default ${DEFAULT_GRACE_SECONDS}>] [--force]`)
    .option('--id <service id>', 'the service')
    .option(
      '--grace-seconds <seconds>',
      `how long the old secret also signs, 0-${MAX_GRACE_SECONDS}`,
      String(DEFAULT_GRACE_SECONDS),
    )
    .option(
      '--force',
      "rotate even while an earlier rotation's grace period runs (dropping that older secret now)",
      false,
    )
    .action((flags: { id?: string; graceSeconds: string; force: boolean }, command: Command) =>
      runCommand(async () => {
        const usage = usageLine(command);
        const { id } = flags;
        if (!id) throw new UsageError(`Name the service.\nUsage: ${usage}`);
        const seconds = numberFlag(flags.graceSeconds, {
          name: 'grace-seconds',
          min: 0,
          max: MAX_GRACE_SECONDS,
          unit: 'seconds',
          usage,
        });
        const keyring = await configuredKeyring();
        const rotated = await withOperatorDatabase(({ db }) =>
          rotateEventsSecret(db, keyring, id, seconds, new Date(), { force: flags.force, origin: operatorOrigin() }),
        ).catch((error: unknown) => {
          if (error instanceof EventsRotationInProgressError)
            error.message += ' Wait until then, or run again with --force to rotate now and drop that secret at once.';
          throw error;
        });
        console.log(secretLines(id, rotated.secret));
        console.log(
          rotated.previousSecretExpiresAt
            ? `The previous secret also signs every delivery until ${rotated.previousSecretExpiresAt.toISOString()}.`
            : 'The previous secret no longer signs.',
        );
        return 0;
      }),
    );

  events
    .command('clear')
    .description('no more events: drop its URL and secrets; its undelivered events are given up')
    .usage('--id <service id>')
    .option('--id <service id>', 'the service')
    .action((flags: { id?: string }, command: Command) =>
      runCommand(async () => {
        const { id } = flags;
        if (!id) throw new UsageError(`Name the service.\nUsage: ${usageLine(command)}`);
        const cleared = await withOperatorDatabase(({ db }) => clearEvents(db, id, operatorOrigin()));
        const name = escapeControl(id);
        console.log(
          cleared.hadUrl
            ? `${name} gets no more events; ${count(cleared.givenUp, 'undelivered event')} given up.`
            : `${name} had no events URL; nothing changed.`,
        );
        return 0;
      }),
    );
}
