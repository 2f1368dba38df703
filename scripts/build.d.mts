/** scripts/build.mjs, for the TypeScript that calls it (the tests' global setup). */
export function bundle(options: { entryPoints?: Record<string, string>; outdir: string }): Promise<void>;
