import i18next from 'i18next';
import { LANGUAGES, type Language } from '../domain/languages';
import en_us from './locales/en_us.json';
import zh_cn from './locales/zh_cn.json';

/**
 * Every sentence the bot says, in Simplified Chinese and English, from the catalogs in `locales/` through i18next
 * (interpolation, and plurals by `count` with the CLDR rules of each language: English `_one`/`_other`, Chinese
 * `_other` only). The catalogs are bundled with the code and loaded once, synchronously, so `t` is a pure function
 * of its arguments: cards stay pure. `test/unit/i18n.test.ts` keeps the two catalogs and the code in step.
 */

export { LANGUAGES, type Language };

/** A key as the catalogs write it, plural suffixes included. */
export type CatalogKey = keyof typeof en_us;

/** A key as code names it: for a plural, the key without its suffix, the form chosen by `count`. */
export type MessageKey = CatalogKey extends infer K ? (K extends `${infer Base}_${'one' | 'other'}` ? Base : K) : never;

export type MessageValues = Readonly<Record<string, string | number>>;

/** A sentence to be said: its key, and the values it interpolates. What the domain returns instead of text. */
export interface Message {
  key: MessageKey;
  values?: MessageValues;
}

export const CATALOGS: Readonly<Record<Language, Readonly<Record<string, string>>>> = { zh_cn, en_us };

const i18n = i18next.createInstance();
void i18n.init({
  initAsync: false,
  resources: { zh_cn: { translation: zh_cn }, en_us: { translation: en_us } },
  lng: 'zh_cn',
  supportedLngs: [...LANGUAGES],
  // A key missing in one language is a bug the catalog test catches; shown in production, English beats a key.
  fallbackLng: 'en_us',
  // Keys are flat and dotted ("form.refusal.empty"); nothing is nested and there are no namespaces.
  keySeparator: false,
  nsSeparator: false,
  interpolation: {
    // Nothing here is HTML: markdown values are escaped by the card that builds them, and plain_text shows text as
    // it is. Values are never interpolated again, so what people typed (a to-do's text) stays literal.
    escapeValue: false,
    skipOnVariables: true,
  },
  returnNull: false,
});

/** The sentence `key` in `lang`, with `values` interpolated (`count` picks the plural form). */
export function t(lang: Language, key: MessageKey, values?: MessageValues): string {
  return i18n.t(key, { ...values, lng: lang }) as string;
}

/** The same thing in every language, keyed as Feishu keys its i18n fields (`zh_cn`, `en_us`). */
export function everyLanguage<T>(make: (lang: Language) => T): Record<Language, T> {
  return { zh_cn: make('zh_cn'), en_us: make('en_us') };
}

/** Accepts `zh`, `zh_cn`, `zh-CN`, `en`, `en_us`, `en-US` (any case); undefined for anything else. */
export function parseLanguage(raw: string): Language | undefined {
  const code = raw.trim().toLowerCase().replace('-', '_');
  if (code === 'zh' || code === 'zh_cn') return 'zh_cn';
  if (code === 'en' || code === 'en_us') return 'en_us';
  return undefined;
}

const CHINESE = /\p{Script=Han}/u;
const LATIN_WORD = /\p{Script=Latin}{2,}/u;

/**
 * The language a person wrote in, when the words say: Chinese characters mean Chinese, words in Latin letters
 * (and no Chinese) English. Undefined when nothing tells (no words, only numbers and symbols).
 */
export function languageOfText(text: string): Language | undefined {
  if (CHINESE.test(text)) return 'zh_cn';
  if (LATIN_WORD.test(text)) return 'en_us';
  return undefined;
}
