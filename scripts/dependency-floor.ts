/**
 * The CI's offline dependency check (`.ci/run`, beside scripts/audit.ts): every copy of a package with past
 * advisories that package-lock.json installs must be at or above the version that fixed them. `npm audit` needs the
 * advisory service, which some build machines cannot reach, and then proves nothing; this needs only the lock file,
 * so a downgrade (a merge that resolves the lock file the wrong way, a pinned old version) fails the build anyway.
 * The verdict is a pure function of the lock, tested on a lock with one package moved back.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The lowest vetted version per major line, with the advisory that set it. A copy on a major line newer than every
 * floor passes (it postdates the fixes); one on an older line with no floor of its own fails.
 */
export const VETTED_FLOORS: Readonly<Record<string, readonly string[]>> = {
  // CVE-2025-58754: a data: URL is decoded whole, whatever maxContentLength says (memory exhaustion); 1.8.2 fixed
  // CVE-2025-27152 (absolute URLs sent to a base URL's credentials).
  axios: ['1.12.0'],
  // CVE-2024-37890: a request with many headers crashes the server (the emulator's gateway, the SDK's client).
  ws: ['8.17.1'],
  // CVE-2023-36665: prototype pollution through parsed .proto definitions (the SDK's frames).
  protobufjs: ['7.2.5'],
  // CVE-2024-45296, CVE-2024-52798: routes compiled into backtracking regular expressions (ReDoS).
  'path-to-regexp': ['0.1.12', '1.9.0', '3.3.0', '6.3.0', '8.0.0'],
  // CVE-2025-7783: multipart boundaries from Math.random (the SDK's uploads through axios).
  'form-data': ['2.5.4', '3.0.4', '4.0.4'],
  // CVE-2025-54420: ctx.redirect('back') follows a Referer to another site.
  koa: ['2.16.2', '3.0.1'],
  // CVE-2025-15284: arrayLimit not applied to bracket notation (memory exhaustion from a query string).
  qs: ['6.14.1'],
  // CVE-2024-28849: Proxy-Authorization kept across a redirect to another host.
  'follow-redirects': ['1.15.6'],
  // CVE-2025-5889: a pattern of many braces takes exponential time.
  'brace-expansion': ['1.1.12', '2.0.2', '4.0.1'],
};

interface LockFile {
  packages?: Record<string, { version?: string }>;
}

/** Every copy of a vetted package below its floor, one sentence each; empty when all are at or above. */
export function floorViolations(lock: LockFile, floors: Readonly<Record<string, readonly string[]>> = VETTED_FLOORS): string[] {
  const problems: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const name = path.split('node_modules/').pop() ?? '';
    const lines = floors[name];
    if (!lines || !path.includes('node_modules/') || entry.version === undefined) continue;
    const version = parse(entry.version);
    const floor = lines.map(parse).find((candidate) => candidate.numbers[0] === version.numbers[0]);
    const newestMajor = Math.max(...lines.map((line) => parse(line).numbers[0] ?? 0));
    if (floor ? compare(version, floor) < 0 : (version.numbers[0] ?? 0) < newestMajor) {
      problems.push(`${path} is ${entry.version}, below the vetted ${floor?.text ?? lines.join(' / ')}: update it (npm update ${name}) or find what pins it`);
    }
  }
  return problems;
}

interface Version {
  text: string;
  numbers: number[];
  prerelease: boolean;
}

function parse(text: string): Version {
  const [release = '', prerelease] = text.split('-', 2);
  return { text, numbers: release.split('.').map((part) => Number.parseInt(part, 10) || 0), prerelease: prerelease !== undefined };
}

/** Release numbers first; a prerelease comes before its release. */
function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const difference = (a.numbers[i] ?? 0) - (b.numbers[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return Number(!a.prerelease) - Number(!b.prerelease);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as LockFile;
  const problems = floorViolations(lock);
  for (const problem of problems) console.error(problem);
  const names = Object.keys(VETTED_FLOORS).length;
  console.log(
    problems.length === 0
      ? `dependency floor: every copy of the ${names} vetted packages is at or above its floor`
      : `dependency floor: ${problems.length} below their floor`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
