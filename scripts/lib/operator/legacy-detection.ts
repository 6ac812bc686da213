import type { TokenKeyring } from '../../../src/crypto/token-cipher.ts';
import type { Database } from '../../../src/db/client.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import {
  detectLegacyScheme,
  type LegacyDetection,
  type LegacyScheme,
  legacySchemeById,
} from '../legacy-tokens/index.ts';
import { UsageError } from './cli.ts';
import { count } from './commands/shared.ts';
import { sampleUnreadableTokens, type UnreadableSample } from './legacy-token-sample.ts';
import { readSetting } from './settings.ts';

/** The old system's key, as its environment held it (LEGACY_TOKEN_KEY), if the operator set it. */
export function readLegacyKey(rootDir: string): string | undefined {
  return readSetting('LEGACY_TOKEN_KEY', { rootDir });
}

/** A `--legacy-scheme` value: one of the catalogue's printed ids, or a usage error saying where to get one. */
export function forcedLegacyScheme(id: string | undefined, usage: string): LegacyScheme | undefined {
  if (id === undefined) return undefined;
  const scheme = legacySchemeById(id);
  if (!scheme)
    throw new UsageError(
      `--legacy-scheme takes a scheme id as \`npx gateway tokens detect-legacy\` prints it, e.g. ` +
        `pbkdf2-sha256-100000/utf8-key/salt-bytes/hex/iv16/salt16; got "${id}".\nUsage: ${usage}`,
    );
  return scheme;
}

/** LEGACY_TOKEN_KEY is set, but it opens none of the old system's sampled values: nothing is written. */
export class LegacyKeyOpensNothingError extends GatewayError<'legacy_key_opens_nothing'> {
  constructor(message: string) {
    super('legacy_key_opens_nothing', 'conflict', message);
  }
}

export interface LegacyFinding {
  sample: UnreadableSample;
  /** Null when nothing was sampled. A forced scheme is tried alone, so a wrong key still shows. */
  detection: LegacyDetection | null;
  scheme: LegacyScheme | null;
}

/**
 * The scheme the old system wrote its v1.2 values in: forced, or learned from a sample of the
 * stored values no configured key opens (the GCM tag decides). No sample (nothing left to carry
 * over) gives no scheme and no error.
 */
export async function findLegacyScheme(options: {
  db: Database;
  keyring: TokenKeyring;
  legacyKey: string;
  sampleSize: number;
  forced?: LegacyScheme;
}): Promise<LegacyFinding> {
  const sample = await sampleUnreadableTokens(options.db, options.keyring, options.sampleSize);
  if (sample.tokens.length === 0) return { sample, detection: null, scheme: null };
  const detection = await detectLegacyScheme(
    sample.tokens.map((token) => token.value),
    options.legacyKey,
    { sampleSize: options.sampleSize, ...(options.forced ? { schemes: [options.forced] } : {}) },
  );
  return { sample, detection, scheme: detection.scheme };
}

/** What to tell the operator when the key opens none of the sample (a few of them named, never a value). */
export function opensNothingMessage(sample: UnreadableSample): string {
  const named = sample.tokens
    .slice(0, 3)
    .map(({ context }) => `user ${context.userId} ${context.field}`)
    .join(', ');
  return (
    `LEGACY_TOKEN_KEY opens none of the ${count(sample.tokens.length, 'sampled value')} no configured key opens (e.g. ${named}), ` +
    "under the schemes tried; nothing was written. Check that it is the old system's key exactly as its " +
    'environment held it (the token encryption key of the old deployment). If these are values an earlier run ' +
    'could not carry over, they stay as they are: unset LEGACY_TOKEN_KEY to run `npx gateway tokens encrypt` without them.'
  );
}
