import { LegacyKeyCache } from './key-derivation.ts';
import { decryptLegacyParts, legacyPlaintext } from './open-value.ts';
import { LEGACY_SCHEMES, type LegacyPartEncoding, type LegacyScheme } from './schemes.ts';
import { decodeLegacyValue, type LegacyValueParts, partsFitScheme } from './value-parts.ts';

export interface LegacyDetectionOptions {
  /** How many of the values are tried (the first ones); 100 unless told. */
  sampleSize?: number;
  /** The schemes to try, in order; the whole catalogue unless told (a forced `--scheme` passes one). */
  schemes?: readonly LegacyScheme[];
  /**
   * How many values that fit some scheme's shape but open under none are tried against every
   * scheme before giving up (each costs every derivation: seconds). 3 unless told.
   */
  maxFruitlessSweeps?: number;
  /** Derivations run at once (Node's crypto thread pool has 4 threads). 4 unless told. */
  concurrency?: number;
}

/** A sampled value the detected scheme does not open, by its position in `values` only. */
export interface LegacyUnopenedValue {
  position: number;
  /** `shape`: its parts fit no scheme (not four parts, or wrong encoding or lengths); `not-opened`: they do, but it does not open. */
  reason: 'shape' | 'not-opened';
}

export interface LegacyDetection {
  /** The scheme that opens the most sampled values, or null when none opens any. */
  scheme: LegacyScheme | null;
  sampled: number;
  /** Sampled values the scheme opens (0 when there is none). */
  opened: number;
  unopened: LegacyUnopenedValue[];
  /** Other schemes that opened some sampled values (an old system that changed scheme on the way). */
  otherSchemes: { scheme: LegacyScheme; opened: number }[];
  /** Key derivations run (cached per scheme and salt). */
  derivations: number;
  elapsedMs: number;
}

async function mapWithLimit<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/** A sampled value decoded under each part encoding it is written in (almost always one). */
class SampledValue {
  private readonly decoded = new Map<LegacyPartEncoding, LegacyValueParts>();
  readonly position: number;

  constructor(position: number, value: string) {
    this.position = position;
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      const parts = decodeLegacyValue(value, encoding);
      if (parts) this.decoded.set(encoding, parts);
    }
  }

  /** Its parts when they fit the scheme's encoding and lengths: a scheme that does not fit is never derived. */
  fitting(scheme: LegacyScheme): LegacyValueParts | undefined {
    const parts = this.decoded.get(scheme.partEncoding);
    return parts && partsFitScheme(parts, scheme) ? parts : undefined;
  }
}

/**
 * Which scheme the old system wrote its values with, found from the values themselves: a wrong
 * guess fails its GCM tag. One value at a time is tried against every scheme that fits its shape,
 * in catalogue order, until one opens it; that scheme is then tried on the whole sample. It stops
 * once no other scheme could open more than the best one found (each value opens under one
 * scheme), or after `maxFruitlessSweeps` values no scheme opens (a wrong key).
 */
export async function detectLegacyScheme(
  values: readonly string[],
  legacyKey: string,
  options: LegacyDetectionOptions = {},
): Promise<LegacyDetection> {
  const started = performance.now();
  const schemes = options.schemes ?? LEGACY_SCHEMES;
  const concurrency = options.concurrency ?? 4;
  const maxFruitlessSweeps = options.maxFruitlessSweeps ?? 3;
  const sample = values.slice(0, options.sampleSize ?? 100).map((value, position) => new SampledValue(position, value));
  const shaped = sample.filter((value) => schemes.some((scheme) => value.fitting(scheme)));
  const cache = new LegacyKeyCache(legacyKey);

  async function opens(scheme: LegacyScheme, value: SampledValue): Promise<boolean> {
    const parts = value.fitting(scheme);
    if (!parts) return false;
    const key = await cache.keyFor(scheme, parts);
    if (!key) return false;
    const bytes = decryptLegacyParts(parts, key);
    return bytes !== undefined && legacyPlaintext(bytes) !== undefined;
  }

  /** The first scheme, in order, that opens this value (tried `concurrency` at a time). */
  async function sweep(value: SampledValue, skip: ReadonlySet<LegacyScheme>): Promise<LegacyScheme | undefined> {
    const fitting = schemes.filter((scheme) => !skip.has(scheme) && value.fitting(scheme));
    for (let start = 0; start < fitting.length; start += concurrency) {
      const chunk = fitting.slice(start, start + concurrency);
      const results = await Promise.all(chunk.map((scheme) => opens(scheme, value)));
      const found = results.indexOf(true);
      if (found >= 0) return chunk[found];
    }
    return undefined;
  }

  const found = new Map<LegacyScheme, Set<number>>();
  const swept = new Set<number>();
  let fruitlessSweeps = 0;
  while (fruitlessSweeps < maxFruitlessSweeps) {
    const openedByAny = new Set([...found.values()].flatMap((positions) => [...positions]));
    const left = shaped.filter((value) => !openedByAny.has(value.position));
    const best = Math.max(0, ...[...found.values()].map((positions) => positions.size));
    // No other scheme can open more than the values no found scheme opens.
    if (left.length === 0 || best >= left.length) break;
    const next = left.find((value) => !swept.has(value.position));
    if (!next) break;
    swept.add(next.position);
    const scheme = await sweep(next, new Set(found.keys()));
    if (!scheme) {
      fruitlessSweeps += 1;
      continue;
    }
    const results = await mapWithLimit(shaped, concurrency, async (value) =>
      (await opens(scheme, value)) ? value.position : -1,
    );
    found.set(scheme, new Set(results.filter((position) => position >= 0)));
  }

  const ranked = [...found.entries()]
    .map(([scheme, positions]) => ({ scheme, positions }))
    .sort((a, b) => b.positions.size - a.positions.size || schemes.indexOf(a.scheme) - schemes.indexOf(b.scheme));
  const winner = ranked[0];
  const shapedPositions = new Set(shaped.map((value) => value.position));
  const unopened = sample
    .filter((value) => !winner?.positions.has(value.position))
    .map((value) => ({
      position: value.position,
      reason: shapedPositions.has(value.position) ? ('not-opened' as const) : ('shape' as const),
    }));
  return {
    scheme: winner?.scheme ?? null,
    sampled: sample.length,
    opened: winner?.positions.size ?? 0,
    unopened,
    otherSchemes: ranked.slice(1).map(({ scheme, positions }) => ({ scheme, opened: positions.size })),
    derivations: cache.derivations,
    elapsedMs: performance.now() - started,
  };
}
