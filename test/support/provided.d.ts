// Values the global setup hands to every test project (vitest `provide` / `inject`).
declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres:// URL of the server's maintenance database, used to create per-file databases. */
    adminDatabaseUrl: string;
    /** The migrated database every test file copies with CREATE DATABASE ... TEMPLATE. */
    templateDatabase: string;
    /** host:port of the WebSocket bridge the Worker reaches Postgres through. */
    wsProxy: string;
    /** The bridge's per-run secret, which the Worker sends in the bridge path. */
    wsProxySecret: string;
    /** Unique per test run; every database the run creates starts with gw_test_<runId>. */
    runId: string;
    /** A loopback port that accepts TCP connections and never answers: a database that hangs. */
    blackholePort: number;
    /** A master key made for this run (the Worker's TOKEN_ENCRYPTION_KEY in tests). */
    tokenEncryptionKey: string;
    sessionSecret: string;
    /** Base URL of the stand-in GitHub (OAuth and API) on loopback. */
    githubUrl: string;
    /** The control API of the loopback events receivers (test/support/events-receiver.ts). */
    eventsReceiversUrl: string;
  }
}

export {};
