/**
 * Feishu's local i18n, as a reader's client applies it: a field's `i18n_*` twin keyed by language wins when it has
 * the reader's language (Feishu: "if both are configured, the multilingual one takes precedence"); otherwise the
 * plain field; otherwise a language the card has, as Feishu shows a configured language to a reader of another one
 * (feishu-cards.md §8).
 */

export const LANGS = ['zh_cn', 'en_us'] as const;
export type Lang = (typeof LANGS)[number];

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `i18n[lang]`, else `plain`, else the first language `i18n` has. */
export function pickLocal<T>(plain: T | undefined, i18n: unknown, lang: Lang, accept: (value: unknown) => value is T): T | undefined {
  if (isObject(i18n) && accept(i18n[lang])) return i18n[lang];
  if (plain !== undefined) return plain;
  return isObject(i18n) ? Object.values(i18n).find(accept) : undefined;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** The text of a text element (`plain_text`, `lark_md`) or of a `markdown` component: `content` / `i18n_content`. */
export function localContent(node: unknown, lang: Lang): string {
  if (!isObject(node)) return '';
  return pickLocal(isString(node.content) ? node.content : undefined, node.i18n_content, lang, isString) ?? '';
}

/** An input's default: `default_value` / `i18n_default_value`. */
export function localDefaultValue(node: Json, lang: Lang): string {
  return pickLocal(isString(node.default_value) ? node.default_value : undefined, node.i18n_default_value, lang, isString) ?? '';
}

/** The header's tags: `text_tag_list` / `i18n_text_tag_list`. */
export function localTagList(header: Json, lang: Lang): unknown[] {
  const isList = (value: unknown): value is unknown[] => Array.isArray(value);
  return pickLocal(isList(header.text_tag_list) ? header.text_tag_list : undefined, header.i18n_text_tag_list, lang, isList) ?? [];
}

/** A toast's sentence: `content` / `i18n`. */
export function localToast(toast: { content: string; i18n?: Record<string, string> }, lang: Lang): string {
  return pickLocal(toast.content, toast.i18n, lang, isString) ?? toast.content;
}
