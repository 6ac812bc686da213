import { createDecipheriv } from 'node:crypto';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { deriveLegacyKey, legacyKeyBytes } from './key-derivation.ts';
import { LEGACY_TAG_LENGTH, type LegacyScheme } from './schemes.ts';
import { decodeLegacyValue, type LegacyValueParts, partsFitScheme } from './value-parts.ts';

export type LegacyOpenFailureCode =
  /** The value is not four parts of the scheme's encoding and lengths. */
  | 'legacy_value_shape'
  /** The old key cannot be read the way the scheme reads it (not hex, not base64, not 32 bytes). */
  | 'legacy_key_unusable'
  /** The GCM tag refused it: another key, another scheme, or a changed value. */
  | 'legacy_value_unopened'
  /** It opened, but to bytes that are not UTF-8 text. */
  | 'legacy_value_not_text';

/** Why an old-system value did not open. Its messages never hold the value or the key. */
export class LegacyTokenError extends GatewayError<LegacyOpenFailureCode> {}

const MESSAGES: Record<LegacyOpenFailureCode, string> = {
  legacy_value_shape: 'the value is not salt:iv:authTag:ciphertext in the lengths and encoding of this scheme',
  legacy_key_unusable: 'LEGACY_TOKEN_KEY cannot be read the way this scheme reads the key',
  legacy_value_unopened: 'the value does not open with LEGACY_TOKEN_KEY under this scheme (its tag does not match)',
  legacy_value_not_text: 'the value opens, but not to UTF-8 text',
};

export type LegacyOpenResult = { ok: true; plaintext: string } | { ok: false; error: LegacyTokenError };

function failure(code: LegacyOpenFailureCode): LegacyOpenResult {
  // `input`: the stored value or the key given is what is wrong, not the gateway.
  return { ok: false, error: new LegacyTokenError(code, 'input', MESSAGES[code]) };
}

const TEXT = new TextDecoder('utf-8', { fatal: true });

/** AES-256-GCM without AAD; the 16-byte tag decides. */
export function decryptLegacyParts(parts: LegacyValueParts, key: Buffer): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: LEGACY_TAG_LENGTH });
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

export function legacyPlaintext(bytes: Buffer): string | undefined {
  try {
    return TEXT.decode(bytes);
  } catch {
    return undefined;
  }
}

/** One old-system value opened under a known scheme (for the re-encryption, value by value). */
export async function openLegacyValue(
  value: string,
  scheme: LegacyScheme,
  legacyKey: string,
): Promise<LegacyOpenResult> {
  const parts = decodeLegacyValue(value, scheme.partEncoding);
  if (!parts || !partsFitScheme(parts, scheme)) return failure('legacy_value_shape');
  if (!legacyKeyBytes(legacyKey, scheme.keyEncoding)) return failure('legacy_key_unusable');
  const key = await deriveLegacyKey(scheme, legacyKey, parts);
  if (!key) return failure('legacy_key_unusable');
  const bytes = decryptLegacyParts(parts, key);
  if (!bytes) return failure('legacy_value_unopened');
  const plaintext = legacyPlaintext(bytes);
  return plaintext === undefined ? failure('legacy_value_not_text') : { ok: true, plaintext };
}
