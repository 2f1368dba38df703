/** scripts/build.mjs, for the TypeScript that calls it (the tests' global setup, the benchmarks' bundles). */
export function bundle(options: { entryPoints?: Record<string, string>; outdir: string; extension?: string; buildCommit?: string }): Promise<number>;
export function compactSdk(outdir: string): Promise<void>;
