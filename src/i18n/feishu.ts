import { type Language, type MessageKey, everyLanguage, t } from './index';

/**
 * Feishu's local i18n fields (feishu-cards.md §8): a text object carries `content` and, beside it, `i18n_content`
 * keyed by language; a toast carries `content` and `i18n`. Each reader's client shows its own language. The
 * ephemeral-send API accepts none of these, so a card shown to one person is written in one language.
 */

/** What to say: a key, or a function of the language for a sentence put together from several parts. */
export type Phrase = MessageKey | ((lang: Language) => string);

export function say(phrase: Phrase, lang: Language): string {
  return typeof phrase === 'function' ? phrase(lang) : t(lang, phrase);
}

/** How a card speaks: `lang` fills `content`; a card the whole group sees also carries every language. */
export interface Voice {
  lang: Language;
  everyLanguage: boolean;
}

export interface LocalContent {
  content: string;
  i18n_content?: Record<Language, string>;
}

/** `content` in the voice's language and, for a group card, `i18n_content` in every language. */
export function localContent(phrase: Phrase, voice: Voice): LocalContent {
  return {
    content: say(phrase, voice.lang),
    ...(voice.everyLanguage && { i18n_content: everyLanguage((lang) => say(phrase, lang)) }),
  };
}

export type ToastType = 'success' | 'error' | 'warning' | 'info';

export interface Toast {
  type: ToastType;
  content: string;
  i18n: Record<Language, string>;
}

/** A callback toast: `content` in `lang` (the clicked card's), `i18n` in every language for each reader's client. */
export function toast(type: ToastType, phrase: Phrase, lang: Language): Toast {
  return { type, content: say(phrase, lang), i18n: everyLanguage((each) => say(phrase, each)) };
}
