/** Reading what the old system encrypted at v1.2 (issue 15): the catalogue, detection, opening one value. */
export {
  detectLegacyScheme,
  type LegacyDetection,
  type LegacyDetectionOptions,
  type LegacyUnopenedValue,
} from './detect-scheme.ts';
export { type LegacyOpenFailureCode, type LegacyOpenResult, LegacyTokenError, openLegacyValue } from './open-value.ts';
export { LEGACY_SCHEMES, type LegacyScheme, legacySchemeById } from './schemes.ts';
