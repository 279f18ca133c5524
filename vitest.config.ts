import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites share one Redis and the two cores; files run in parallel, tests inside a file in order.
    fileParallelism: true,
    pool: 'forks',
  },
});
