/** scripts/build.mjs, for the TypeScript that calls it (the tests' global setup, the benchmarks' bundles). */
export function bundle(options: { entryPoints?: Record<string, string>; outdir: string }): Promise<void>;
export function compactSdk(outdir: string): Promise<void>;
