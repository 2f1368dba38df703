import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFunction } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 23, item 13: the runtime is `node dist/main.js` (and `node dist/store.js`), so the runtime dependencies are
 * exactly the packages the bundle loads; build tools (esbuild, tsx) are development dependencies, left out of the
 * image (`npm ci --omit=dev --omit=optional`) and of a production install (`npm prune --omit=dev --omit=optional`).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A bare specifier naming a package (strings that merely follow `from` in bundled code are not). */
const PACKAGE = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w./-]*)?$/;
let bundled: Set<string>;
let manifest: { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const files = (await readdir(join(ROOT, 'dist'))).filter((file) => file.endsWith('.js'));
  bundled = new Set<string>();
  for (const file of files) {
    const code = await readFile(join(ROOT, 'dist', file), 'utf8');
    for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\(\s*|\brequire\d*\(\s*)["']([^"'.][^"']*)["']/g)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier) || !PACKAGE.test(specifier)) continue;
      bundled.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : (specifier.split('/')[0] as string));
    }
  }
  manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
}, 60_000);

describe('runtime dependencies', () => {
  it('are the packages dist/ loads, and nothing that only builds or runs TypeScript', () => {
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
    expect(Object.keys(manifest.dependencies)).not.toContain('esbuild');
    expect(Object.keys(manifest.devDependencies)).toEqual(expect.arrayContaining(['tsx', 'esbuild']));
    for (const name of bundled) expect(Object.keys(manifest.dependencies), `dist/ loads ${name}`).toContain(name);
    for (const name of Object.keys(manifest.dependencies)) expect([...bundled], `${name} is a runtime dependency`).toContain(name);
  });

  it('include the Feishu SDK compacted for the installed version: one-byte text, a third of the size, the same exports', () => {
    const require = createRequire(join(ROOT, 'package.json'));
    const file = require.resolve('@larksuiteoapi/node-sdk');
    const { version } = require('@larksuiteoapi/node-sdk/package.json') as { version: string };
    const compact = join(ROOT, 'dist', `lark-sdk-${version}.cjs`);
    const code = readFileSync(compact, 'utf8');
    expect(code.length).toBeLessThan(statSync(file).size / 2);
    // Else V8 would hold it as a two-byte string, twice its length in bytes.
    expect(/[\u0080-\uffff]/.test(code)).toBe(false);
    // Run as src/feishu/sdk.ts runs it: with the package's path and `require`.
    const module = { exports: {} as Record<string, unknown> };
    compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: compact })(
      module.exports,
      createRequire(file),
      module,
      file,
      dirname(file),
    );
    const original = require(file) as Record<string, unknown>;
    expect(Object.keys(module.exports).sort()).toEqual(Object.keys(original).sort());
    expect(typeof module.exports.Client).toBe('function');
  });

  it("hold one copy of the MIME type table: Koa, its body type check, its content negotiation and axios's forms share it", async () => {
    // package.json's `overrides`: Koa's `accepts` 1.x and form-data ask for mime-types 2, Koa and type-is for 3, each
    // copy with its own 200 KB table parsed at every start.
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const copies = (name: string) => Object.keys(lock.packages).filter((path) => path.endsWith(`node_modules/${name}`));
    expect(copies('mime-types')).toEqual(['node_modules/mime-types']);
    expect(copies('mime-db')).toEqual(['node_modules/mime-db']);
    const require = createRequire(join(ROOT, 'package.json'));
    for (const user of ['accepts', 'type-is', 'form-data']) {
      expect(createRequire(require.resolve(`${user}/package.json`)).resolve('mime-types'), user).toBe(require.resolve('mime-types'));
    }
  });

  it('run the bot and the store tool from dist/ alone', () => {
    expect(manifest.scripts.start).toMatch(/^exec node .*dist\/main\.js$/);
    expect(manifest.scripts.store).toBe('node dist/store.js');
  });
});
