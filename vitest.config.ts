import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers (Temporal dev server, PostgreSQL) start once per run and are shared by all files.
    globalSetup: ['test/globalSetup.ts'],
    // Temporal's native worker runs best in child processes, one test file per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 20 * 60_000,
  },
});
