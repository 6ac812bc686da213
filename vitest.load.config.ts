import { defineConfig } from 'vitest/config';

// `npm run test:load`: the one-minute load test, apart from `npm test` because of its length.
// It starts everything it needs itself (bench/gateway-stack.ts), so there is no global setup.
export default defineConfig({
  test: { name: 'load', include: ['test/load/**/*.test.ts'], environment: 'node', testTimeout: 300_000 },
});
