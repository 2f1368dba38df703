import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { bundle } from '../../scripts/build.mjs';

/**
 * vitest's global setup: bundles the bot (and `npm run store`'s script) once per run, as `npm run build` does, so the
 * suites that start the bot as a child process run `node <bundle>/main.js`, what `npm start` runs, instead of paying
 * tsx's transpiling of every module on every start (seconds per start on a loaded 2-core machine). The folder is in
 * node_modules/.cache, inside the repo, where the bundle's external packages resolve; it is removed after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outdir = fileURLToPath(new URL(`../../node_modules/.cache/test-bundle-${process.pid}`, import.meta.url));
  await bundle({ outdir });
  project.provide('botBundle', outdir);
  return () => rm(outdir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    botBundle: string;
  }
}
