import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // Finds the PostgreSQL server for the suites that need one, or says in one line that they are skipped.
    // The bot bundled once per run, for the suites that start it as a child process (node, not tsx, on every start).
    globalSetup: ['test/support/postgres-setup.ts', 'test/support/bot-bundle-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end files each start an emulator and a bot on their own ports; two workers suit a 2-core machine.
    maxWorkers: 2,
  },
});
