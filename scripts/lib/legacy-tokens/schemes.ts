/**
 * The ways an old Node system may have written `salt:iv:authTag:ciphertext` with AES-256-GCM
 * (issue 15's survey): a key derivation, how the key string became bytes, how the salt part was
 * fed to the derivation, how the four parts were encoded, and the IV and salt lengths. The tag is
 * always 16 bytes and there is no AAD. Each combination is a scheme with a printable id that a
 * command can print and take back (`--scheme`).
 */

/** How the AES key came from the old key (and the value's salt). */
export type LegacyKeyDerivation =
  | { kind: 'pbkdf2'; hash: 'sha256' | 'sha512'; iterations: number }
  /** scrypt with r=8, p=1 (Node's defaults) and the cost N. */
  | { kind: 'scrypt'; cost: number }
  /** The key bytes themselves (they must be 32). */
  | { kind: 'raw' }
  /** SHA-256 of the key bytes. */
  | { kind: 'sha256' }
  /** HKDF-SHA256 of the key bytes with the salt and an empty info. */
  | { kind: 'hkdf-sha256' };

/** How the old key, exactly as its environment held it, became bytes. */
export type LegacyKeyEncoding = 'utf8' | 'hex' | 'base64';
/** `bytes`: the salt part decoded; `string`: the salt part's own characters; `unused`: no salt in the derivation. */
export type LegacySaltUse = 'bytes' | 'string' | 'unused';
export type LegacyPartEncoding = 'hex' | 'base64' | 'base64url';
export type LegacyIvLength = 16 | 12;
export type LegacySaltLength = 16 | 32 | 64;

export interface LegacyScheme {
  /** e.g. `pbkdf2-sha256-100000/utf8-key/salt-bytes/hex/iv16/salt16`. */
  readonly id: string;
  readonly derivation: LegacyKeyDerivation;
  readonly keyEncoding: LegacyKeyEncoding;
  readonly saltUse: LegacySaltUse;
  readonly partEncoding: LegacyPartEncoding;
  readonly ivLength: LegacyIvLength;
  readonly saltLength: LegacySaltLength;
}

export const LEGACY_TAG_LENGTH = 16;
export const LEGACY_KEY_LENGTH = 32;

/**
 * Derivations in the order they are tried: the most common first, then the cheap ones (a wrong
 * guess costs almost nothing), and the costly ones (600,000 PBKDF2 rounds, scrypt N=65536) last.
 */
const DERIVATIONS: readonly LegacyKeyDerivation[] = [
  { kind: 'pbkdf2', hash: 'sha256', iterations: 100_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 100_000 },
  { kind: 'scrypt', cost: 16_384 },
  { kind: 'raw' },
  { kind: 'sha256' },
  { kind: 'hkdf-sha256' },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 10_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 10_000 },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 1_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 1_000 },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 2_145 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 2_145 },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 210_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 210_000 },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 310_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 310_000 },
  { kind: 'scrypt', cost: 32_768 },
  { kind: 'pbkdf2', hash: 'sha256', iterations: 600_000 },
  { kind: 'pbkdf2', hash: 'sha512', iterations: 600_000 },
  { kind: 'scrypt', cost: 65_536 },
];

const KEY_ENCODINGS: readonly LegacyKeyEncoding[] = ['utf8', 'hex', 'base64'];
const PART_ENCODINGS: readonly LegacyPartEncoding[] = ['hex', 'base64', 'base64url'];
const IV_LENGTHS: readonly LegacyIvLength[] = [16, 12];
const SALT_LENGTHS: readonly LegacySaltLength[] = [16, 32, 64];

export function derivationId(derivation: LegacyKeyDerivation): string {
  switch (derivation.kind) {
    case 'pbkdf2':
      return `pbkdf2-${derivation.hash}-${derivation.iterations}`;
    case 'scrypt':
      return `scrypt-${derivation.cost}-8-1`;
    default:
      return derivation.kind;
  }
}

function saltUsesOf(derivation: LegacyKeyDerivation): readonly LegacySaltUse[] {
  return derivation.kind === 'raw' || derivation.kind === 'sha256' ? ['unused'] : ['bytes', 'string'];
}

function schemeId(parts: Omit<LegacyScheme, 'id'>): string {
  return [
    derivationId(parts.derivation),
    `${parts.keyEncoding}-key`,
    `salt-${parts.saltUse}`,
    parts.partEncoding,
    `iv${parts.ivLength}`,
    `salt${parts.saltLength}`,
  ].join('/');
}

function buildCatalogue(): readonly LegacyScheme[] {
  const schemes: LegacyScheme[] = [];
  for (const derivation of DERIVATIONS) {
    for (const keyEncoding of KEY_ENCODINGS) {
      for (const saltUse of saltUsesOf(derivation)) {
        for (const partEncoding of PART_ENCODINGS) {
          for (const ivLength of IV_LENGTHS) {
            for (const saltLength of SALT_LENGTHS) {
              const parts = { derivation, keyEncoding, saltUse, partEncoding, ivLength, saltLength };
              schemes.push(Object.freeze({ id: schemeId(parts), ...parts }));
            }
          }
        }
      }
    }
  }
  return Object.freeze(schemes);
}

/** Every scheme, in the order detection tries them (most common first, costly derivations last). */
export const LEGACY_SCHEMES: readonly LegacyScheme[] = buildCatalogue();

const BY_ID = new Map(LEGACY_SCHEMES.map((scheme) => [scheme.id, scheme]));

/** The scheme a printed id names (as `--scheme` takes it), or undefined for an id not in the catalogue. */
export function legacySchemeById(id: string): LegacyScheme | undefined {
  return BY_ID.get(id);
}
