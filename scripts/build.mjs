// Bundles the bot (src/main.ts, what `npm start` runs) and the store's export and import (scripts/store.ts, what
// `npm run store` runs) into dist/, with the version and commit they were built from as constants (src/build-info.ts).
// At run time only dist/ and the runtime dependencies are needed: esbuild and tsx are development dependencies.
// Plain JavaScript, run by node: `npm ci` runs it through `prepare`, before anything is compiled.
// The tests' global setup (test/support/bot-bundle-setup.ts) builds the same bundle once per run through `bundle`.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, transform } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
/** BUILD_COMMIT wins (a Docker build has no .git: `--build-arg BUILD_COMMIT=$(git rev-parse --short HEAD)`). */
function commit() {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Bundles each entry (output name: path from the repo's root) into `outdir`, the PostgreSQL migrations and the
 * compact Feishu SDK (`compactSdk`) beside them. Packages stay external, so `outdir` must lie inside the repo, where
 * node finds node_modules. `extension` names the entries' files (`.js`); `buildCommit` is what BUILD_COMMIT bakes in
 * (the checkout's commit). Returns how long esbuild took, the copies aside (the benchmarks report it).
 */
export async function bundle({ entryPoints = { main: 'src/main.ts', store: 'scripts/store.ts' }, outdir, extension = '.js', buildCommit = commit() }) {
  rmSync(outdir, { recursive: true, force: true });
  const started = performance.now();
  await build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    sourcemap: true,
    outdir,
    outExtension: { '.js': extension },
    logLevel: 'warning',
    define: { BUILD_VERSION: JSON.stringify(version), BUILD_COMMIT: JSON.stringify(buildCommit) },
  });
  const ms = performance.now() - started;
  cpSync(`${root}/src/store/postgres/migrations`, `${outdir}/migrations`, { recursive: true });
  await compactSdk(outdir);
  return ms;
}

/**
 * Writes the Feishu SDK's file, compacted, into `outdir` for the bundle to load instead of the package's own
 * (`loadSdk` in src/feishu/sdk.ts, which looks for the same name): the package's 5.9 MB carry Chinese doc comments,
 * so V8 keeps its whole source as a two-byte string (12 MB) for as long as the bot runs. Without comments and
 * whitespace, and with the few non-ASCII characters left escaped, it is 1.9 MB of one-byte text; the code is the
 * same. Named by the SDK's version, so that a bundle never loads a copy of another version than the one installed.
 */
export async function compactSdk(outdir) {
  const require = createRequire(import.meta.url);
  const { version } = require('@larksuiteoapi/node-sdk/package.json');
  const source = readFileSync(require.resolve('@larksuiteoapi/node-sdk'), 'utf8');
  const { code } = await transform(source, { loader: 'js', format: 'cjs', platform: 'node', minifyWhitespace: true, legalComments: 'none', charset: 'ascii' });
  writeFileSync(`${outdir}/lark-sdk-${version}.cjs`, code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bundle({ outdir: `${root}/dist` });
