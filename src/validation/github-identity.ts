/**
 * How a GitHub account is named: a login (1-39 letters, digits and hyphens, not starting with a
 * hyphen) or its numeric id, which a rename never changes. The admin API, the operator commands
 * and the stand-in GitHub accept the same shapes.
 */
export const GITHUB_LOGIN_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/** Decimal digits only (GitHub's ids are positive integers; 20 digits hold any 64-bit one). */
export const GITHUB_ID_PATTERN = /^\d{1,20}$/;
