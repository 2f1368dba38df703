import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/bot/commands';

/** The English README and its Chinese translation name the same commands and settings, and every setting there is. */

const ROOT = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const READMES = { 'README.md': read('README.md'), 'README.zh-CN.md': read('README.zh-CN.md') };

/** Every variable the configuration schema reads: the keys of `src/config.ts`'s zod objects. */
const SETTINGS = [...new Set([...read('src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string))];

/** The settings a README's configuration table lists: its rows' first cells. */
const tableSettings = (readme: string) => [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1] as string).sort();

describe('README.md and README.zh-CN.md', () => {
  it('read the settings from the configuration schema', () => {
    expect(SETTINGS).toEqual(expect.arrayContaining(['FEISHU_APP_ID', 'DEFAULT_TIME_ZONE', 'BOT_LANGUAGE']));
  });

  it.each(Object.entries(READMES))('%s lists every setting of src/config.ts in its configuration table', (_, readme) => {
    expect(SETTINGS.filter((name) => !tableSettings(readme).includes(name))).toEqual([]);
  });

  it('list the same settings', () => {
    expect(tableSettings(READMES['README.zh-CN.md'])).toEqual(tableSettings(READMES['README.md']));
  });

  it.each(Object.entries(READMES))('%s names every command in both languages', (_, readme) => {
    const names = Object.values(COMMAND_NAMES).flatMap((command) => [`/${command.en_us}`, `/${command.zh_cn}`]);
    expect(names.filter((name) => !new RegExp(`\`${name}[\` ]`).test(readme))).toEqual([]);
  });

  it('link to each other', () => {
    expect(READMES['README.md']).toContain('(README.zh-CN.md)');
    expect(READMES['README.zh-CN.md']).toContain('(README.md)');
  });
});
