import type { MembershipBounds } from '../../../src/admission/decide.ts';
import { escapeControl } from '../../../src/validation/control-characters.ts';
import { membershipFreshSeconds, membershipHardSeconds } from '../../../src/validation/membership-seconds.ts';
import { rootDir } from './cli.ts';
import { MissingSettingError, readSetting } from './settings.ts';

/**
 * MEMBERSHIP_FRESH_SECONDS and MEMBERSHIP_HARD_SECONDS as the Worker reads them (the same bounds,
 * defaults and order), from the environment or .dev.vars like every operator setting: a command
 * that says who is admitted decides it as verify does, past the same hard bound.
 */
export function operatorMembershipBounds(): MembershipBounds {
  const freshSeconds = setting('MEMBERSHIP_FRESH_SECONDS', membershipFreshSeconds, '0 to 86400');
  const hardSeconds = setting('MEMBERSHIP_HARD_SECONDS', membershipHardSeconds, '60 to 604800');
  if (hardSeconds < freshSeconds)
    throw new MissingSettingError(
      'MEMBERSHIP_HARD_SECONDS must be at least MEMBERSHIP_FRESH_SECONDS, as the Worker requires; set them as the Worker has them.',
    );
  return { freshSeconds, hardSeconds };
}

function setting(
  name: string,
  schema: typeof membershipFreshSeconds | typeof membershipHardSeconds,
  range: string,
): number {
  const raw = readSetting(name, { rootDir });
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new MissingSettingError(
      `${name} must be whole seconds from ${range}, as the Worker's; got "${escapeControl(raw ?? '')}".`,
    );
  return parsed.data;
}
