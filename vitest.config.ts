import { configDefaults, defineConfig } from 'vitest/config';
import { LongestFirst } from './test/support/longest-first';

/**
 * Files whose modules may be shared: each worker imports the bot's modules once for all the files it runs instead of
 * once per file (about 1.5 s of a loaded 2-core machine's CPU per end-to-end file, more than most spend testing).
 * Each of these files builds what it uses (emulator, app or in-process fleet, store) and stops it; none mocks a
 * module, leaves a fake clock behind, runs the bot as a process or measures the heap. The other files start, kill and
 * freeze bot processes (the crash, stall, stop and Dockerfile tests), drive a browser, or measure the heap (the fuzz,
 * zones and long-connection fragments): each keeps a process of its own.
 */
const TIMEOUTS = { testTimeout: 20_000, hookTimeout: 20_000 };
const SHARED_MODULES = [
  'test/unit/**/*.test.{ts,tsx}',
  'test/emulator/**/*.test.{ts,tsx}',
  'test/e2e/**/*.test.{ts,tsx}',
  'test/fleet/{fleet,fleet-digest,fleet-fan-out,fleet-long-connection,fleet-soak,fleet-task-sync}.test.ts',
  'test/reliability/{fault-soak,fan-out,snapshot-crash,torn-log}.test.ts',
  'test/playground/server.test.ts',
  'test/deploy/{runtime-dependencies,systemd}.test.ts',
];

export default defineConfig({
  test: {
    // Finds the PostgreSQL server for the suites that need one, or says in one line that they are skipped.
    // The bot bundled once per run, for the suites that start it as a child process (node, not tsx, on every start).
    globalSetup: ['test/support/postgres-setup.ts', 'test/support/bot-bundle-setup.ts'],
    // End-to-end files each start an emulator and a bot on their own ports; two workers suit a 2-core machine: three
    // kept its cores busier for no shorter a run, and beside other work three or four starved the fault soaks' 300 ms
    // timeouts (bench/README.md, "`npm test`'s time on the 2-core machine").
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
    projects: [
      { test: { ...TIMEOUTS, name: 'shared-modules', include: SHARED_MODULES, isolate: false } },
      { test: { ...TIMEOUTS, name: 'isolated', include: ['test/**/*.test.{ts,tsx}'], exclude: [...configDefaults.exclude, ...SHARED_MODULES] } },
    ],
  },
});
