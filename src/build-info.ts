import { createRequire } from 'node:module';

/**
 * What is running: the package's version and the commit it was built from. `npm run build` (scripts/build.mjs)
 * writes both into dist/ as constants; run from source (tsx, the tests) the version is read from package.json and
 * the commit is unknown.
 */

declare const BUILD_VERSION: string | undefined;
declare const BUILD_COMMIT: string | undefined;

export interface BuildInfo {
  version: string;
  commit: string;
}

export const BUILD_INFO: BuildInfo = {
  version: typeof BUILD_VERSION === 'string' ? BUILD_VERSION : (createRequire(import.meta.url)('../package.json') as { version: string }).version,
  commit: typeof BUILD_COMMIT === 'string' ? BUILD_COMMIT : 'unknown',
};
