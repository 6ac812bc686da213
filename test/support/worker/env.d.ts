// Bindings the test configuration (vitest.config.ts) adds to the Worker under test.
declare namespace Cloudflare {
  interface Env {
    DATABASE_URL: string;
    DATABASE_WS_PROXY: string;
    DATABASE_WS_PROXY_SECRET: string;
    TEST_ADMIN_DATABASE_URL: string;
    TEST_TEMPLATE_DATABASE: string;
    TEST_RUN_ID: string;
    TEST_RATE_LIMIT: string;
    TEST_CLIENT_RATE_LIMIT: string;
    /** CLIENT_RATE_LIMIT with TEST_CLIENT_RATE_LIMIT a minute, for the tests of the per-address budget. */
    LOW_CLIENT_RATE_LIMIT: RateLimit;
    TEST_BLACKHOLE_PORT: string;
    /** The control API of the loopback events receivers (test/support/events-receiver.ts). */
    TEST_EVENTS_RECEIVERS: string;
    TOKEN_ENCRYPTION_KEY: string;
    SESSION_SECRET: string;
    GITHUB_CLIENT_ID: string;
    GITHUB_CLIENT_SECRET: string;
    GITHUB_OAUTH_URL: string;
    GITHUB_API_URL: string;
  }
}
