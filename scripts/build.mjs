// Bundles src/main.ts into dist/ (what `npm start` runs), with the version and commit it was built from as constants
// (src/build-info.ts). Plain JavaScript, run by node: `npm ci` runs it through `prepare`, before anything is compiled.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
/** BUILD_COMMIT wins (a Docker build has no .git: `--build-arg BUILD_COMMIT=$(git rev-parse --short HEAD)`). */
function commit() {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  outdir: 'dist',
  logLevel: 'warning',
  define: { BUILD_VERSION: JSON.stringify(version), BUILD_COMMIT: JSON.stringify(commit()) },
});
cpSync('src/store/postgres/migrations', 'dist/migrations', { recursive: true });
