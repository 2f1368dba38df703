import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../src/bot/commands';
import { CATALOGS, LANGUAGES, type Language, languageOfText, parseLanguage, t } from '../../src/i18n';
import { toast } from '../../src/i18n/feishu';

/**
 * The catalogs and the code kept in step: every key in both languages with the plural forms each language's rules
 * need, the same interpolation variables in both, every key used by some code and every key the code names present.
 */

const ROOT = join(import.meta.dirname, '../..');
const PLURAL = /_(zero|one|two|few|many|other)$/;
const baseKey = (key: string) => key.replace(PLURAL, '');
const variables = (text: string) => [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();

/** Every TypeScript source of the bot (not its tests), as text. */
function sources(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  walk('src');
  walk('cards');
  return files.map((file) => readFileSync(join(ROOT, file), 'utf8')).join('\n');
}

const keysOf = (lang: Language) => Object.keys(CATALOGS[lang]);
const baseKeysOf = (lang: Language) => new Set(keysOf(lang).map(baseKey));
/** The keys written with plural forms. */
const pluralsOf = (lang: Language) =>
  new Set(
    keysOf(lang)
      .filter((key) => PLURAL.test(key))
      .map(baseKey),
  );

describe('the message catalogs', () => {
  // Their raw key counts differ by design: English writes a plural's _one and _other forms, Chinese _other only.
  it('have the same keys in both languages, a plural in one a plural in the other', () => {
    const zh = baseKeysOf('zh_cn');
    const en = baseKeysOf('en_us');
    expect(
      [...en].filter((key) => !zh.has(key)),
      'missing in zh_cn',
    ).toEqual([]);
    expect(
      [...zh].filter((key) => !en.has(key)),
      'missing in en_us',
    ).toEqual([]);
    expect([...pluralsOf('zh_cn')].sort(), 'plural in one language only').toEqual([...pluralsOf('en_us')].sort());
  });

  it('give each plural the forms its language’s rules choose from, and no others (Chinese: _other only)', () => {
    for (const lang of LANGUAGES) {
      const categories = new Intl.PluralRules(lang.replace('_', '-')).resolvedOptions().pluralCategories;
      for (const base of pluralsOf(lang)) {
        const forms = keysOf(lang)
          .filter((key) => baseKey(key) === base && key !== base)
          .map((key) => key.slice(base.length + 1));
        expect(forms.sort(), `${lang} ${base}`).toEqual([...categories].sort());
        expect(CATALOGS[lang][base], `${lang} ${base} has a plural and a plain form`).toBeUndefined();
      }
    }
    expect(new Intl.PluralRules('zh-CN').resolvedOptions().pluralCategories).toEqual(['other']);
  });

  it('interpolate the same variables in both languages, in every plural form', () => {
    for (const base of baseKeysOf('en_us')) {
      const forms = LANGUAGES.flatMap((lang) =>
        keysOf(lang)
          .filter((key) => baseKey(key) === base)
          .map((key) => ({ lang, key })),
      );
      const sets = forms.map(({ lang, key }) => `${variables(CATALOGS[lang][key] as string).join(',')}`);
      expect(new Set(sets).size, `${base}: ${forms.map((f) => `${f.lang}:${f.key}`).join(' ')} → ${sets.join(' | ')}`).toBe(1);
    }
  });

  it('hold no key that no code uses', () => {
    const code = sources();
    const unused = [...baseKeysOf('en_us')].filter((key) => !code.includes(`'${key}'`));
    expect(unused).toEqual([]);
  });

  it('hold every key the code names', () => {
    const namespaces = new Set([...baseKeysOf('en_us')].map((key) => key.split('.')[0]));
    const named = [...sources().matchAll(/'((?:[a-z]+\.)+[a-zA-Z]+)'/g)].map((m) => m[1] as string);
    const keys = named.filter((key) => namespaces.has(key.split('.')[0] as string));
    expect(keys.length).toBeGreaterThan(100);
    expect(keys.filter((key) => !baseKeysOf('en_us').has(key))).toEqual([]);
  });

  // A command starts a word: the slash inside a zone name (Asia/Shanghai) is not one.
  it('name commands by their names in the sentence’s language', () => {
    for (const lang of LANGUAGES) {
      const names = new Set(Object.values(COMMAND_NAMES).map((command) => command[lang] as string));
      for (const [key, text] of Object.entries(CATALOGS[lang])) {
        for (const [, name] of text.matchAll(/(?<![\p{L}\d])\/(\p{L}+)/gu)) expect(names.has(name as string), `${lang} ${key}: /${name}`).toBe(true);
      }
    }
  });
});

describe('t', () => {
  it('interpolates and picks plural forms by each language’s rules', () => {
    expect(t('en_us', 'list.more', { count: 1 })).toBe('…and 1 more.');
    expect(t('en_us', 'refusal.tooManyAssignees', { count: 1 })).toBe('Too many assignees: at most 1 person per to-do.');
    expect(t('en_us', 'refusal.tooManyAssignees', { count: 50 })).toBe('Too many assignees: at most 50 people per to-do.');
    expect(t('zh_cn', 'refusal.tooManyAssignees', { count: 1 })).toBe('负责人太多：每项待办最多 1 人。');
    expect(t('zh_cn', 'refusal.tooManyAssignees', { count: 50 })).toBe('负责人太多：每项待办最多 50 人。');
  });

  it('leaves what people typed literal: no HTML escaping, no second interpolation, no nesting', () => {
    const typed = '<b>&</b> {{count}} $t(bot.name) {{text}}';
    expect(t('en_us', 'recall.done', { text: typed })).toBe(`Recalled the to-do “${typed}”.`);
    expect(t('zh_cn', 'recall.done', { text: typed })).toBe(`已撤回待办“${typed}”。`);
  });

  it('builds a toast with content in one language and i18n in both', () => {
    expect(toast('success', 'toast.markedDone', 'zh_cn')).toEqual({
      type: 'success',
      content: '已标记完成。',
      i18n: { zh_cn: '已标记完成。', en_us: 'Marked done.' },
    });
  });
});

describe('telling the language of what someone wrote', () => {
  it.each([
    ['明天下午3点 提交周报', 'zh_cn'],
    ['fix 登录 bug', 'zh_cn'],
    ['submit the report tomorrow 3pm', 'en_us'],
    ['mine', 'en_us'],
    ['10:00 3', undefined],
    ['', undefined],
  ] as const)('%j → %s', (text, lang) => {
    expect(languageOfText(text)).toBe(lang);
  });

  it('reads language codes as people write them', () => {
    expect(['zh', 'ZH_CN', 'zh-CN'].map(parseLanguage)).toEqual(['zh_cn', 'zh_cn', 'zh_cn']);
    expect(['en', 'en_us', 'en-US'].map(parseLanguage)).toEqual(['en_us', 'en_us', 'en_us']);
    expect(parseLanguage('fr')).toBeUndefined();
  });
});
