/**
 * How every rotating secret is configured: one current value, and a comma-separated list of
 * earlier ones still accepted (for checking or decrypting, never for signing or encrypting) while
 * a rotation runs. SESSION_SECRET / SESSION_SECRET_PREVIOUS and TOKEN_ENCRYPTION_KEY /
 * TOKEN_ENCRYPTION_PREVIOUS_KEYS both read this way (docs/security.md).
 */

/** The earlier secrets of a comma-separated list, trimmed; blank entries (`a,,b`, a trailing comma) are ignored. */
export function previousSecrets(list = ''): string[] {
  return list
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

/** The current secret first, then the earlier ones: the order a check or a decryption tries them in. */
export function rotationSecrets(current: string, previous = ''): [string, ...string[]] {
  return [current, ...previousSecrets(previous)];
}
