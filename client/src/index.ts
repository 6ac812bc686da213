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
  ADMISSION_ENDED_REASONS,
  type AdmissionEndedEvent,
  type AdmissionEndedReason,
  EVENT_TOLERANCE_SECONDS,
  type EventCheck,
  type EventDelivery,
  type EventPerson,
  type EventRefusal,
  type EventReplayStore,
  type GatewayEvent,
  MAX_REMEMBERED_EVENTS,
  MemoryReplayStore,
  SESSION_ENDED_REASONS,
  type SessionEndedEvent,
  type SessionEndedReason,
  type VerifyEventOptions,
  verifyEvent,
} from './events.ts';
export { createGatewayEventsHandler, type GatewayEventsOptions } from './events-route.ts';
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
