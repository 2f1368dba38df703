import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page's script and style, bundled in memory by esbuild when the playground starts (well under a second). */
export interface PageBundle {
  js: string;
  css: string;
}

const web = (file: string) => fileURLToPath(new URL(`../web/${file}`, import.meta.url));

export async function bundlePage(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [web('main.tsx'), web('style.css')],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const text = (ext: string) => result.outputFiles.find((file) => file.path.endsWith(ext))?.text ?? '';
  return { js: text('.js'), css: text('.css') };
}
