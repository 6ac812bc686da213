import type { Bindings, Config } from '../config.ts';
import type { SessionKeys } from '../crypto/session-keys.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import type { AuthenticatedService } from '../services/authenticate-service.ts';
import type { Logger } from './logger.ts';

/** What every handler finds on the Hono context, set up once per request by `requestServices`. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    config: Config;
    log: Logger;
    /** Opens the request's database pool on first call; a request that never asks never connects. */
    database: () => Database;
    /** The token keyring, imported on first use and then cached for the isolate. */
    tokenKeyring: () => Promise<TokenKeyring>;
    /** Keys derived from SESSION_SECRET (session tokens, the sign-in cookie). */
    sessionKeys: () => Promise<SessionKeys>;
    /** The calling service, set by `requireService` on service routes. */
    service: AuthenticatedService;
  };
}
