import type { ChangeOrigin } from '../changes/origin.ts';
import { recordChange } from '../changes/record.ts';
import type { Database } from '../db/client.ts';
import { lockServiceForGrant } from '../db/services.ts';
import { countUngrantedPeople, grantStandingAccessRows } from '../db/sessions.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { escapeControl } from '../validation/control-characters.ts';
import { UnknownServiceError } from './admin.ts';

/** Why a grant is refused: the service could not use it, or it would give nothing. */
export class StandingGrantRefusedError extends GatewayError<
  'service_deleted' | 'service_inactive' | 'scope_missing' | 'standing_access_off'
> {}

export interface StandingGrant {
  /** How many people the service now has (or, in a dry run, would have) standing access to. */
  people: number;
  /** When that access ends unless the person signs out of the service first, or signs in through it again. */
  until: Date;
  dryRun: boolean;
}

/**
 * Gives a service standing access to every whitelisted person with a stored GitHub token who has
 * no session with it yet, as if each had just signed in through it and that session had ended:
 * for the cutover from the old system, which kept no sessions and let any `github:token` service
 * fetch any whitelisted person's token by user id. Without it, such a service gets `foreign_user`
 * for everyone until each signs in through it again, and the carried-over tokens go unused.
 * Each person sees the service on their landing page and can end it there. People who already
 * have a session row with the service (signed in through it, or signed out of it) are left as
 * they are, so a second run grants nobody. Written with its change record in one transaction.
 */
export async function grantStandingAccess(
  db: Database,
  identifier: string,
  options: { standingAccessSeconds: number; dryRun: boolean; origin: ChangeOrigin },
  now = new Date(),
): Promise<StandingGrant> {
  const { standingAccessSeconds, dryRun, origin } = options;
  const name = escapeControl(identifier);
  if (standingAccessSeconds === 0)
    throw new StandingGrantRefusedError(
      'standing_access_off',
      'conflict',
      'STANDING_ACCESS_SECONDS is 0: standing access ends with the session, so a grant would give nothing.',
    );
  const until = new Date(now.getTime() + standingAccessSeconds * 1000);
  const people = await db.transaction(async (tx) => {
    const service = await lockServiceForGrant(tx, identifier);
    if (!service) throw new UnknownServiceError(identifier);
    if (service.deletedAt)
      throw new StandingGrantRefusedError('service_deleted', 'conflict', `${name} is deleted: it can fetch no token.`);
    if (!service.isActive)
      throw new StandingGrantRefusedError(
        'service_inactive',
        'conflict',
        `${name} is deactivated: its key is refused. Activate it first (\`npx gateway services activate --id ${name}\`).`,
      );
    if (!service.allowedScopes.includes('github:token'))
      throw new StandingGrantRefusedError(
        'scope_missing',
        'forbidden',
        `${name} lacks the scope github:token, so it fetches no tokens: nothing to grant.`,
      );
    if (dryRun) return countUngrantedPeople(tx, service.id);
    const granted = await grantStandingAccessRows(tx, service.id, now);
    // A run that grants nobody changes nothing, and records nothing (as `services update`).
    if (granted > 0)
      await recordChange(tx, origin, {
        action: 'services:grant-standing-access',
        subjectServiceId: service.id,
        details: { people: granted, until: until.toISOString(), standing_access_seconds: standingAccessSeconds },
      });
    return granted;
  });
  return { people, until, dryRun };
}
