// Bundles the bot (src/main.ts, what `npm start` runs) and the store's export and import (scripts/store.ts, what
// `npm run store` runs) into dist/, with the version and commit they were built from as constants (src/build-info.ts).
// At run time only dist/ and the runtime dependencies are needed: esbuild and tsx are development dependencies.
// Plain JavaScript, run by node: `npm ci` runs it through `prepare`, before anything is compiled.
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
  entryPoints: { main: 'src/main.ts', store: 'scripts/store.ts' },
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
