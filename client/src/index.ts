export {
  type AssertedClaims,
  type AssertedPerson,
  type AssertionFallbackReason,
  type AssertionRefusal,
  CLOCK_SKEW_SECONDS,
} from './assertion.ts';
export {
  type AssertionVerdict,
  type CallbackChecks,
  createGatewayClient,
  type ErrorOf,
  type GatewayClient,
  type GatewayClientOptions,
  type PersonRef,
  type SignedIn,
  type SignInFailure,
  type SignInLink,
} from './client.ts';
export { GatewayClientError } from './errors.ts';
export {
  authenticate,
  createGatewayHandler,
  finishSignIn,
  type HandlerOptions,
  type SessionOptions,
  type SignInRoutesOptions,
  sessionOf,
  startSignIn,
} from './handler.ts';
export { JWKS_RETRY_SECONDS, MAX_JWKS_SECONDS, UNKNOWN_KID_REFETCH_SECONDS } from './jwks.ts';
export * from './types.ts';
export { MAX_CACHE_SECONDS } from './verify-cache.ts';
