import * as z from 'zod';
import { hasControlCharacter } from './control-characters.ts';

// What operators and admin callers give the gateway, checked the same way by the admin API and
// the operator commands, before any query: Postgres refuses some of it with an error (a NUL, a
// year 0), and a terminal acts on some of it when a command prints it back.

export const CONTROL_CHARACTER_RULE =
  'must not contain control or invisible characters (U+0000-U+001F, U+007F-U+009F: line breaks, tabs, escapes; nor format characters such as U+202E or U+200B, nor U+2028/U+2029)';

/** A service's display name: what `gateway services list` and the landing page show. */
export const displayName = z
  .string()
  .refine((value) => value.trim() !== '' && value.length <= 200, { error: 'is 1-200 characters' })
  .refine((value) => !hasControlCharacter(value), { error: CONTROL_CHARACTER_RULE });

const EARLIEST = Date.UTC(1970, 0, 1);
const AFTER_LATEST = Date.UTC(10_000, 0, 1);

/**
 * A time both JS and Postgres hold exactly and that this gateway can have written: the years 1970
 * to 9999 (JS also holds year 0 and +275760, which Postgres refuses with an error).
 */
export function isStorableTime(date: Date): boolean {
  const time = date.getTime();
  return Number.isFinite(time) && time >= EARLIEST && time < AFTER_LATEST;
}

/** An ISO 8601 date and time with seconds and a zone (`Z` or `+02:00`), from 1970 to 9999. */
export const timestamp = z.iso
  .datetime({ offset: true })
  .refine((value) => isStorableTime(new Date(value)), { error: 'must be a time from 1970 to 9999' });

/** Whole numbers written as plain decimal digits: no sign, exponent, hex, fraction or blanks. */
export const DECIMAL_DIGITS = /^[0-9]{1,15}$/;

/** Text of plain decimal digits, as a number from `min` to `max`. */
export const decimalInteger = (min: number, max: number) =>
  z
    .string()
    .regex(DECIMAL_DIGITS, { error: `must be plain decimal digits, from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be from ${min} to ${max}` })
        .max(max, { error: `must be from ${min} to ${max}` }),
    );
