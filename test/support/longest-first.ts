import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, in the order they start (measured on the 2-core machine with three workers,
 * bench/README.md, "`npm test`'s time on the 2-core machine"). Vitest orders by the durations it cached in an earlier
 * run; a fresh clone (CI) has none, and then a long file could start last and finish alone while the other workers sit
 * idle. The two long files that measure memory in a process of their own (the fuzz and the zones) start among the
 * first, while no worker has imported the bot's modules yet; queued last, as the other isolated files are, the fuzz
 * (10 s) started at 126.6 s and ran alone for its last 5 s. Files that mostly wait (on child processes, leases, npm)
 * alternate with those that keep a core busy, and the two fault soaks are far apart: each has 200 people's calls time
 * out after 300 ms, and the two at once beside other busy files starved both into missing a form for 60 s. The
 * PostgreSQL store's contract starts early, before the fleet's files, which keep PostgreSQL busy too (beside the fleet
 * soak it took 27 s, against 12 s alone). A file missing here only starts later.
 */
const LONGEST_FIRST = [
  'test/deploy/dockerfile.test.ts',
  'test/reliability/fuzz.test.ts',
  'test/reliability/crash.test.ts',
  'test/reliability/zones.test.ts',
  'test/unit/store-postgres.test.ts',
  'test/reliability/fault-soak.test.ts',
  'test/playground/browser.test.ts',
  'test/fleet/fleet-crash.test.ts',
  'test/reliability/stop-and-start.test.ts',
  'test/reliability/snapshot-crash.test.ts',
  'test/fleet/fleet-soak.test.ts',
  'test/e2e/resilience.test.ts',
  'test/fleet/fleet-stall.test.ts',
  'test/reliability/fan-out.test.ts',
  'test/fleet/fleet-fan-out.test.ts',
  'test/e2e/digest.test.ts',
  'test/reliability/data-file-lock.test.ts',
  'test/fleet/fleet-task-sync.test.ts',
  'test/reliability/process.test.ts',
  'test/e2e/demo.test.ts',
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // The unlisted files of isolating projects after all others: vitest keeps a worker and the modules it imported
    // only while the next file waiting shares them too, and stops it otherwise, so an isolated file queued among
    // shared ones would make the next shared file on that worker import everything again.
    const rank = (spec: TestSpecification) => {
      const index = LONGEST_FIRST.indexOf(relative(spec.project.config.root, spec.moduleId));
      return index !== -1 ? index : LONGEST_FIRST.length + (spec.project.config.isolate ? 1 : 0);
    };
    // Stable: the files not listed keep the order vitest gives them.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
