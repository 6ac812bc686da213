export {
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
export * from './types.ts';
export { MAX_CACHE_SECONDS } from './verify-cache.ts';
