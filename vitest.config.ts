import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { deployedVar } from './scripts/lib/dev/deployed-config.ts';
import { withDatabase } from './test/support/database-names.ts';
import { STAND_IN_CLIENT } from './test/support/stand-in-client.ts';

/** Requests per service a minute in the worker tests. */
const RATE_LIMIT_IN_TESTS = 40;
/**
 * The worker tests run with wrangler.toml's RATE_LIMIT_LEASE, so the limiters' limits below are in
 * leases of that many requests (src/http/rate-limit-lease.ts): each is the request count over it.
 */
const RATE_LIMIT_LEASE = Number(deployedVar('RATE_LIMIT_LEASE'));
const inLeases = (requests: number) => {
  if (requests % RATE_LIMIT_LEASE !== 0) throw new Error(`${requests} is not a whole number of leases`);
  return requests / RATE_LIMIT_LEASE;
};
/**
 * Key checks per client address a minute: CLIENT_RATE_LIMIT is as deployed (no test file sends that
 * many from one address), and the tests of the budget itself swap in LOW_CLIENT_RATE_LIMIT.
 */
const CLIENT_RATE_LIMIT_IN_TESTS = 30;

export default defineConfig({
  test: {
    globalSetup: ['./test/support/global-setup.ts'],
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              // The template's URL keeps the Worker's own config valid; each test file swaps in
              // a database of its own (test/support/worker/test-database.ts).
              // Low limits, so a test can reach them (wrangler.toml has the real ones; CLIENT_RATE_LIMIT is
              // the real one, see CLIENT_RATE_LIMIT_IN_TESTS).
              ratelimits: {
                SERVICE_RATE_LIMIT: {
                  namespace_id: '1001',
                  simple: { limit: inLeases(RATE_LIMIT_IN_TESTS), period: 60 },
                },
                CLIENT_RATE_LIMIT: { namespace_id: '1002', simple: { limit: inLeases(1000), period: 60 } },
                LOW_CLIENT_RATE_LIMIT: {
                  namespace_id: '1003',
                  simple: { limit: inLeases(CLIENT_RATE_LIMIT_IN_TESTS), period: 60 },
                },
              },
              bindings: {
                DATABASE_URL: withDatabase(inject('adminDatabaseUrl'), inject('templateDatabase')),
                DATABASE_WS_PROXY: inject('wsProxy'),
                DATABASE_WS_PROXY_SECRET: inject('wsProxySecret'),
                TOKEN_ENCRYPTION_KEY: inject('tokenEncryptionKey'),
                SESSION_SECRET: inject('sessionSecret'),
                GITHUB_CLIENT_ID: STAND_IN_CLIENT.id,
                GITHUB_CLIENT_SECRET: STAND_IN_CLIENT.secret,
                GITHUB_OAUTH_URL: inject('githubUrl'),
                GITHUB_API_URL: inject('githubUrl'),
                PUBLIC_URL: 'https://gateway.test',
                TEST_ADMIN_DATABASE_URL: inject('adminDatabaseUrl'),
                TEST_TEMPLATE_DATABASE: inject('templateDatabase'),
                TEST_RUN_ID: inject('runId'),
                TEST_RATE_LIMIT: String(RATE_LIMIT_IN_TESTS),
                TEST_CLIENT_RATE_LIMIT: String(CLIENT_RATE_LIMIT_IN_TESTS),
                TEST_BLACKHOLE_PORT: String(inject('blackholePort')),
                TEST_EVENTS_RECEIVERS: inject('eventsReceiversUrl'),
              },
            },
          })),
        ],
        // 20 s, not vitest's 5 s: on a loaded 2-core machine a database round trip through the
        // bridge and a PBKDF2 key check can take seconds (two tests timed out at 5 s there).
        test: { name: 'worker', include: ['test/worker/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        // Operator and developer commands, run as the processes a person would start.
        test: { name: 'node', include: ['test/node/**/*.test.ts'], environment: 'node', testTimeout: 30_000 },
      },
      {
        // A real browser (Chromium: test/support/node/browser.ts finds or unpacks one) through the whole stack.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
      },
    ],
  },
});
