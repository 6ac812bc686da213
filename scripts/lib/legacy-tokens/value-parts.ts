import { LEGACY_TAG_LENGTH, type LegacyPartEncoding, type LegacyScheme } from './schemes.ts';

/** The four parts of an old-system value, decoded with one part encoding. */
export interface LegacyValueParts {
  readonly partEncoding: LegacyPartEncoding;
  /** The salt part as stored (a `salt-string` derivation takes these characters). */
  readonly saltText: string;
  readonly salt: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

const ALPHABETS: Record<LegacyPartEncoding, RegExp> = {
  hex: /^(?:[0-9a-f]{2})+$|^(?:[0-9A-F]{2})+$/,
  base64: /^[A-Za-z0-9+/]+={0,2}$/,
  base64url: /^[A-Za-z0-9_-]+$/,
};

/**
 * A part decoded only when it is exactly what Node's `toString(encoding)` writes (Buffer.from
 * itself skips characters it does not know): a value that is not one encoding is not read as it.
 */
function decodePart(part: string, encoding: LegacyPartEncoding): Buffer | undefined {
  if (!ALPHABETS[encoding].test(part)) return undefined;
  const bytes = Buffer.from(part, encoding);
  const again = bytes.toString(encoding);
  return (encoding === 'hex' ? again === part.toLowerCase() : again === part) ? bytes : undefined;
}

/** The value's parts under one encoding, or undefined when it is not four parts of that encoding. */
export function decodeLegacyValue(value: string, encoding: LegacyPartEncoding): LegacyValueParts | undefined {
  const parts = value.split(':');
  if (parts.length !== 4) return undefined;
  const [saltText, ivText, tagText, ciphertextText] = parts as [string, string, string, string];
  const salt = decodePart(saltText, encoding);
  const iv = decodePart(ivText, encoding);
  const tag = decodePart(tagText, encoding);
  const ciphertext = decodePart(ciphertextText, encoding);
  if (!salt || !iv || !tag || !ciphertext) return undefined;
  return { partEncoding: encoding, saltText, salt, iv, tag, ciphertext };
}

/** Whether decoded parts have the lengths a scheme writes (checked before any key is derived). */
export function partsFitScheme(parts: LegacyValueParts, scheme: LegacyScheme): boolean {
  return (
    parts.partEncoding === scheme.partEncoding &&
    parts.salt.length === scheme.saltLength &&
    parts.iv.length === scheme.ivLength &&
    parts.tag.length === LEGACY_TAG_LENGTH
  );
}
