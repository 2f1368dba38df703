import type { TestProject } from 'vitest/node';
import { DEFAULT_TEST_DATABASE_URL, postgresProblem } from './postgres-probe';

/**
 * vitest's global setup: finds the PostgreSQL server for the suites that need one. `TEST_DATABASE_URL` names it (and
 * must answer); otherwise the machine's default is tried, and when it does not answer those suites are skipped with
 * one line saying so, so `npm test` passes on a laptop without PostgreSQL. CI sets `REQUIRE_POSTGRES=1`, which turns
 * the skip into a failure.
 */

export default async function setup(project: TestProject): Promise<void> {
  const named = process.env.TEST_DATABASE_URL;
  const url = named || DEFAULT_TEST_DATABASE_URL;
  const problem = await postgresProblem(url);
  if (problem === undefined) {
    project.provide('postgresUrl', url);
    return;
  }
  const where = redactPassword(url);
  if (named) throw new Error(`TEST_DATABASE_URL (${where}) does not answer: ${problem}`);
  if (process.env.REQUIRE_POSTGRES === '1') throw new Error(`REQUIRE_POSTGRES=1, but no PostgreSQL answered at ${where}: ${problem}`);
  console.warn(`PostgreSQL suites skipped: no server answered at ${where} (${problem}); start one or set TEST_DATABASE_URL to run them.`);
  project.provide('postgresUrl', '');
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'an unreadable URL';
  }
}
