import type { Bindings, Config } from '../config.ts';
import type { SessionKeys } from '../crypto/session-keys.ts';
import type { TokenKeyring } from '../crypto/token-cipher.ts';
import type { Database } from '../db/client.ts';
import type { LookupReads } from '../db/lookup-reads.ts';
import type { AuthenticatedService } from '../services/authenticate-service.ts';
import type { ReadAlong } from '../verify/cached-lookups.ts';
import type { Logger } from './logger.ts';

export interface AuditFacts {
  /** The service the presented key belongs to, even when it was refused (wrong key, inactive). */
  serviceId?: string | null;
  /** The person concerned, once known to exist. */
  userId?: string | null;
  /** The outcome code of a 200 answer that still says no (verify's `valid: false`). */
  code?: string;
}

/** What every handler finds on the Hono context, set up once per request by `requestContext`. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    config: Config;
    log: Logger;
    /** Opens the request's database pool on first call; a request that never asks never connects. */
    database: () => Database;
    /**
     * Lookups that may be a little stale (the verify route's): the read replica first when
     * DATABASE_REPLICA_URL is set, the primary otherwise or when the replica has no such row.
     */
    staleReads: LookupReads;
    /** The token keyring, imported on first use and then cached for the isolate. */
    tokenKeyring: () => Promise<TokenKeyring>;
    /** Keys derived from SESSION_SECRET (session tokens, the sign-in cookie). */
    sessionKeys: () => Promise<SessionKeys>;
    /**
     * The calling service, set by `requireService` once its key checks: absent before that and on
     * every other route (handlers behind `requireService` read it through `callingService`).
     */
    service?: AuthenticatedService;
    /** The session or person `requireService` read in its key's query (the cold verify), for the route. */
    readAlong?: ReadAlong;
    /**
     * Work to finish after the response (audit writes, last_used_at); the request's database
     * pool is ended only once it has settled.
     */
    background: (work: Promise<unknown>) => void;
    /** What the audit row of a service call records beyond the status: set by handlers. */
    audit: AuditFacts;
  };
}
