import type { Bindings } from '../config.ts';
import { readConfig } from '../config.ts';
import { findEndedStandingAccess, findFailingServices, findOverdueEvents } from '../db/service-events.ts';
import { createLogger, describeError, type Logger } from '../http/logger.ts';
import type { DeliveryDeps } from './deliver.ts';
import { withDeliveryDeps } from './delivery-deps.ts';
import { emitStandingAccessExpired } from './emit.ts';
import { deliverPooled, startDelivery } from './start-delivery.ts';

/** At most this many overdue events are attempted per sweep: a backlog drains over several minutes. */
export const SWEEP_ATTEMPT_LIMIT = 50;
/** Of which at most this many of one service: one service's backlog never takes a whole sweep. */
export const SWEEP_PER_SERVICE_LIMIT = 10;
/** With a queue, an event is the sweep's only once this overdue: the queue's own message had its chance. */
const QUEUE_GRACE_MS = 60_000;
/**
 * How far back a sweep looks for standing access that ran out: sweeps missed within it (a cron or
 * database outage) are caught up, and the dedupe key keeps a second look from writing twice.
 */
const STANDING_LOOKBACK_MS = 24 * 60 * 60_000;
/** A service failing this long is reported at every sweep. */
export const FAILING_REPORT_AFTER_MS = 60 * 60_000;

/**
 * The once-a-minute sweep (the Worker's `scheduled` handler, `now` its scheduled time, which only
 * decides what is due: each attempt signs and leases with the clock, src/events/deliver.ts): each
 * of its three jobs runs even if another fails.
 */
export async function runEventsSweep(env: Bindings, now: Date): Promise<void> {
  const config = readConfig(env);
  const log = createLogger({ job: 'events.sweep' }, config.ok ? config.config.LOG_LEVEL : 'info');
  if (!config.ok) {
    log.error('config.invalid', { problems: config.problems });
    return;
  }
  const { config: settings } = config;
  await withDeliveryDeps(settings, log, async (deps) => {
    await job(log, 'overdue', () => attemptOverdue(deps, env.EVENTS_QUEUE, now));
    await job(log, 'standing_access', () =>
      writeStandingAccessExpired(deps, env.EVENTS_QUEUE, settings.STANDING_ACCESS_SECONDS, now),
    );
    await job(log, 'failing', () => reportFailingServices(deps, now));
  });
}

async function job(log: Logger, name: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    log.error('events.sweep_failed', { job: name, error: describeError(error) });
  }
}

/**
 * The events whose attempt is due and that no one took: a queue message lost, an attempt that
 * died, or no queue at all (then every due event is the sweep's). Bounded per run and per service.
 * With the queue bound they go to it (the consumer attempts them, and carries their schedule);
 * without, the sweep attempts them itself, a few at a time (src/events/pool.ts).
 */
async function attemptOverdue(deps: DeliveryDeps, queue: Queue | undefined, now: Date): Promise<void> {
  // Without a queue, due at `now` included (the bound is exclusive).
  const dueBefore = new Date(now.getTime() + (queue ? -QUEUE_GRACE_MS : 1));
  const ids = await findOverdueEvents(deps.db, dueBefore, SWEEP_ATTEMPT_LIMIT, SWEEP_PER_SERVICE_LIMIT);
  if (queue) await startDelivery({ queue, deps }, ids);
  else await deliverPooled(deps, ids, now);
}

/** `session.ended` `standing_access_expired` for standing access that ran out since the last sweeps. */
async function writeStandingAccessExpired(
  deps: DeliveryDeps,
  queue: Queue | undefined,
  standingAccessSeconds: number,
  now: Date,
): Promise<void> {
  const ended = await findEndedStandingAccess(
    deps.db,
    standingAccessSeconds,
    new Date(now.getTime() - STANDING_LOOKBACK_MS),
    now,
  );
  const ids = await emitStandingAccessExpired(deps.db, ended);
  if (queue) await startDelivery({ queue, deps }, ids);
  else await deliverPooled(deps, ids, now);
}

/** Logs every service whose deliveries have failed for over an hour: the operator's signal. */
async function reportFailingServices(deps: DeliveryDeps, now: Date): Promise<void> {
  const failing = await findFailingServices(deps.db, new Date(now.getTime() - FAILING_REPORT_AFTER_MS));
  for (const service of failing)
    deps.log.warn('events.service_failing', {
      serviceId: service.id,
      service: service.identifier,
      failingSince: service.failingSince.toISOString(),
    });
}
