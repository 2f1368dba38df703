/**
 * The CI's dependency audit (`.ci/run`). Runs `npm audit` and fails the build on a high or critical advisory. When
 * the advisory service cannot be reached (some build networks, this project's own build machine among them) it says
 * so plainly and passes: an audit that could not run proves nothing either way, and the build must not hang on a
 * service outside it. The verdict is a pure function of npm's JSON, so it is tested on recorded answers.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface AuditVerdict {
  /** Whether the build may go on. */
  pass: boolean;
  /** One plain sentence for the CI log. */
  line: string;
}

const FAILING: readonly string[] = ['critical', 'high'];

/** The parts of `npm audit --json`'s output read here: a report, or an error when the advisory service did not answer. */
interface AuditReport {
  error?: { summary?: string };
  message?: unknown;
  metadata?: { vulnerabilities?: Record<string, number> };
  vulnerabilities?: Record<string, { severity?: string } | undefined>;
}

/** What `npm audit --json` printed, read as a verdict. */
export function auditVerdict(stdout: string): AuditVerdict {
  let report: AuditReport | null | undefined;
  try {
    report = JSON.parse(stdout);
  } catch {
    return { pass: true, line: 'npm audit could not run (its output was not JSON): dependencies NOT audited.' };
  }
  const counts = report?.metadata?.vulnerabilities;
  if (report?.error !== undefined || typeof counts !== 'object' || counts === null) {
    const why = typeof report?.message === 'string' ? report.message : report?.error?.summary || 'no report';
    return { pass: true, line: `npm audit could not reach the advisory service (${why}): dependencies NOT audited.` };
  }
  const serious = Object.entries(report?.vulnerabilities ?? {})
    .filter(([, v]) => FAILING.includes(v?.severity ?? ''))
    .map(([name, v]) => `${name} (${v?.severity})`);
  const summary = ['critical', 'high', 'moderate', 'low', 'info'].map((level) => `${counts[level] ?? 0} ${level}`).join(', ');
  if (serious.length > 0 || FAILING.some((level) => (counts[level] ?? 0) > 0)) {
    return { pass: false, line: `npm audit found high or critical advisories: ${serious.join(', ') || summary}. Update them (CONTRIBUTING.md, Dependencies).` };
  }
  return { pass: true, line: `npm audit: no high or critical advisories (${summary}).` };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // A bounded run: a network that drops the request must not hold the build.
  const run = spawnSync('npm', ['audit', '--json', '--fetch-retries=1', '--fetch-timeout=20000'], { encoding: 'utf8', timeout: 120_000 });
  const verdict = run.error ? { pass: true, line: `npm audit could not run (${run.error.message}): dependencies NOT audited.` } : auditVerdict(run.stdout);
  console.log(verdict.line);
  process.exitCode = verdict.pass ? 0 : 1;
}
