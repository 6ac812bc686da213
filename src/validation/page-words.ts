import * as z from 'zod';
import { hasControlCharacter } from './control-characters.ts';
import { CONTROL_CHARACTER_RULE } from './operator-input.ts';

// The operator's words on the pages (GATEWAY_NAME, GATEWAY_LOGO_URL, GATEWAY_CONTACT). Each is
// escaped where a page shows it; these rules keep them to one visible line, and the logo to an
// address the pages' CSP can name exactly.

/** Empty counts as unset, so a blank line in .dev.vars or wrangler.toml does not break every request. */
const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const oneLine = (max: number) =>
  z
    .string()
    .trim()
    .refine((value) => !hasControlCharacter(value), { error: CONTROL_CHARACTER_RULE })
    .refine((value) => value.length <= max, { error: `must be at most ${max} characters` });

/** The gateway's name in every page's title and header. */
export const gatewayName = z.preprocess(blankAsUnset, oneLine(60).default('Gateway'));

/** One line for a person who is not let in, e.g. "Ask #it-help for access". */
export const gatewayContact = z.preprocess(blankAsUnset, oneLine(200).optional());

/**
 * A host name made of the characters a CSP source expression allows as they are: the URL parser
 * lets `;` and `,` through, which would end the img-src directive early.
 */
const PLAIN_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function isLogoUrl(value: string): boolean {
  if (hasControlCharacter(value) || !URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && !url.username && !url.password && PLAIN_HOST.test(url.hostname);
}

/** The logo's address: https only, as the page CSP's img-src allows exactly its origin. */
export const gatewayLogoUrl = z.preprocess(
  blankAsUnset,
  z
    .string()
    .trim()
    .refine(isLogoUrl, { error: 'must be an https URL with a plain host name and no user name or password' })
    .transform((value) => new URL(value).toString())
    .optional(),
);
