import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/bot/commands';

/**
 * The English README and its Chinese translation name the same commands and settings, and every setting there is;
 * the Chinese one mirrors the English one section by section; and no relative link of the documentation leads nowhere.
 */

const ROOT = join(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const READMES = { 'README.md': read('README.md'), 'README.zh-CN.md': read('README.zh-CN.md') };

/** Every Markdown page that links to others: the READMEs, docs/, and the pages beside the code they describe. */
const PAGES = [
  'README.md',
  'README.zh-CN.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'bench/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

/** Every variable the configuration schema reads: the keys of `src/config.ts`'s zod objects. */
const SETTINGS = [...new Set([...read('src/config.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string))];

/** The settings a README's configuration table lists: its rows' first cells. */
const tableSettings = (readme: string) => [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1] as string).sort();

/** A page's prose: fenced blocks and code spans removed, since `[x](url)` inside them is an example, not a link. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** The targets of a page's links and images that stay in the repository (no scheme, not a mail address). */
const relativeLinks = (markdown: string) =>
  [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));

/** GitHub's anchor for a heading: lower case, punctuation dropped (letters of any script kept), spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');

/** The anchors a page's headings make, a repeated heading numbered as GitHub numbers it. */
const anchors = (markdown: string) => {
  const seen = new Map<string, number>();
  return markdown
    .replace(/^```[\s\S]*?^```/gm, '')
    .split('\n')
    .flatMap((line) => {
      const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
      if (heading === undefined) return [];
      const base = slug(heading.trim());
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      return [count === 0 ? base : `${base}-${count}`];
    });
};

/** The heading levels of a page, in order: its outline, whatever language its headings are in. */
const outline = (markdown: string) => [...prose(markdown).matchAll(/^(#{1,6}) /gm)].map((m) => (m[1] as string).length);

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

  it('have the same sections and the same links: the Chinese one translates all of the English one', () => {
    const [english, chinese] = [READMES['README.md'], READMES['README.zh-CN.md']];
    expect(outline(chinese)).toEqual(outline(english));
    const others = (readme: string) => relativeLinks(readme).filter((target) => !target.startsWith('README'));
    expect(others(chinese)).toEqual(others(english));
  });

  it('README.md stays the page a newcomer reads first: at most 250 lines, the rest in docs/', () => {
    expect(READMES['README.md'].split('\n').length).toBeLessThanOrEqual(250);
  });
});

describe('the documentation', () => {
  it('finds its pages', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['docs/architecture.md', 'docs/operations.md', 'docs/reliability.md']));
  });

  it.each(PAGES)('%s links only to files that exist, and to headings they have', (page) => {
    const broken = relativeLinks(read(page)).filter((target) => {
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? page : join(dirname(page), decodeURI(path));
      if (!existsSync(join(ROOT, file))) return true;
      return anchor !== undefined && file.endsWith('.md') && !anchors(read(file)).includes(decodeURI(anchor));
    });
    expect(broken).toEqual([]);
  });
});
