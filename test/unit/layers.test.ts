import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The house, bottom up. The layers below the bot import nothing above them, so each can be read, tested and replaced
 * on its own: the domain is plain rules, the store and Feishu's edge are adapters that know the domain and nothing of
 * the bot, the job queue runs on the store. A module may import its own layer and the layers named in `may`.
 */
const LAYERS = {
  /** Leaves every layer may use: the error codes, the logger, health reports, the fleet's shared limits. */
  foundation: { holds: ['src/errors.ts', 'src/log.ts', 'src/health.ts', 'src/shared-limits.ts'], may: [] },
  domain: { holds: ['src/domain/'], may: [] },
  i18n: { holds: ['src/i18n/'], may: ['domain'] },
  store: { holds: ['src/store/'], may: ['foundation', 'domain'] },
  feishu: { holds: ['src/feishu/'], may: ['foundation', 'domain'] },
  jobs: { holds: ['src/jobs/'], may: ['foundation', 'domain', 'store'] },
  /** Cards are pure: domain state and a language in, card JSON out. */
  cards: { holds: ['cards/'], may: ['domain', 'i18n'] },
} as const satisfies Record<string, { holds: readonly string[]; may: readonly string[] }>;

type Layer = keyof typeof LAYERS;

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Every module a file imports from the repository, static, re-exported or dynamic, as a path from the root. */
function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specifiers
    .filter((specifier): specifier is string => specifier?.startsWith('.') === true)
    .map((specifier) => {
      const path = relative(ROOT, resolve(ROOT, dirname(file), specifier));
      return path.endsWith('.ts') || path.endsWith('.json') ? path : sources(dirname(path)).includes(`${path}.ts`) ? `${path}.ts` : `${path}/index.ts`;
    });
}

function layerOf(path: string): Layer | undefined {
  return (Object.keys(LAYERS) as Layer[]).find((layer) => LAYERS[layer].holds.some((held) => (held.endsWith('/') ? path.startsWith(held) : path === held)));
}

/** Arrows from a layer to one it may not import: `from → to`. */
function wrongWayArrows(files: readonly string[], imports: (file: string) => string[] = importsOf): string[] {
  const wrong: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    const allowed: readonly string[] = [from, ...LAYERS[from].may];
    for (const target of imports(file)) {
      const to = layerOf(target);
      if (to === undefined || !allowed.includes(to)) wrong.push(`${file} (${from}) → ${target} (${to ?? 'above'})`);
    }
  }
  return wrong;
}

describe('the layers of the house', () => {
  const files = [...sources('src'), ...sources('cards')];

  it('have no arrow that runs the wrong way', () => {
    expect(wrongWayArrows(files)).toEqual([]);
  });

  it('are read from the code: every kind of import is seen, and a wrong-way one is caught', () => {
    expect(importsOf('src/app.ts')).toContain('src/store/index.ts');
    expect(importsOf('src/store/index.ts')).toContain('src/store/postgres/postgres-store.ts');
    expect(importsOf('src/store/x.ts', "import type { Config } from '../config';\nexport { t } from '../i18n';")).toEqual([
      'src/config.ts',
      'src/i18n/index.ts',
    ]);
    expect(files).toContain('src/domain/model.ts');
    expect(files).toContain('cards/todo.ts');
    for (const layer of Object.keys(LAYERS) as Layer[])
      expect(
        files.some((file) => layerOf(file) === layer),
        layer,
      ).toBe(true);
    const arrows = {
      'src/store/index.ts': ['src/bot/throttle.ts', 'src/log.ts'],
      'src/domain/model.ts': ['src/errors.ts'],
      'src/bot/bot.ts': ['src/store/store.ts'],
    };
    expect(wrongWayArrows(Object.keys(arrows), (file) => arrows[file as keyof typeof arrows])).toEqual([
      'src/store/index.ts (store) → src/bot/throttle.ts (above)',
      'src/domain/model.ts (domain) → src/errors.ts (foundation)',
    ]);
  });
});
