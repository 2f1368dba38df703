import { configDefaults, defineConfig } from 'vitest/config';
import { LongestFirst } from './test/support/longest-first.ts';

/**
 * Files whose modules may be shared: each worker imports the bot's modules once for all the files it runs instead of
 * once per file (1.5-2.5 s of a 2-core machine's CPU per end-to-end file, more than most spend testing). Each of these
 * files builds what it uses (emulator, app or in-process fleet, store, bot processes, a browser) and stops it; none
 * mocks a module, leaves a fake clock behind or measures the heap. Those that start, kill and freeze bot processes
 * (the crash, stall, stop and Dockerfile tests) or drive Chromium keep nothing process-wide but their children. The
 * other files measure the heap (the fuzz, zones and long-connection fragments) or render into happy-dom (the
 * playground's page): each keeps a process of its own.
 */
const TIMEOUTS = { testTimeout: 20_000, hookTimeout: 20_000 };
const SHARED_MODULES = [
  'test/unit/**/*.test.{ts,tsx}',
  'test/emulator/**/*.test.{ts,tsx}',
  'test/e2e/**/*.test.{ts,tsx}',
  'test/fleet/**/*.test.ts',
  'test/reliability/{crash,data-file-lock,fan-out,fault-soak,process,secrets,snapshot-crash,stop-and-start,torn-log}.test.ts',
  'test/playground/{browser,server}.test.ts',
  'test/deploy/**/*.test.ts',
];

export default defineConfig({
  test: {
    // Finds the PostgreSQL server for the suites that need one, or says in one line that they are skipped.
    // The bot bundled once per run, for the suites that start it as a child process (node, not tsx, on every start).
    globalSetup: ['test/support/postgres-setup.ts', 'test/support/bot-bundle-setup.ts'],
    // End-to-end files each start an emulator and a bot on their own ports. Many files spend much of their time
    // waiting on child processes, npm or leases, so three workers keep a 2-core machine's cores busier than two did:
    // 141 and 149 s against 155 and 171 s in alternating runs of the whole suite, and it passed with a busy loop taking
    // a core; four were no shorter (bench/README.md, "`npm test`'s time on the 2-core machine", fifth round).
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    projects: [
      { test: { ...TIMEOUTS, name: 'shared-modules', include: SHARED_MODULES, isolate: false } },
      { test: { ...TIMEOUTS, name: 'isolated', include: ['test/**/*.test.{ts,tsx}'], exclude: [...configDefaults.exclude, ...SHARED_MODULES] } },
    ],
  },
});
