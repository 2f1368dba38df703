import type { Language } from '../domain/languages';
import { languageOfText } from '../i18n';
import { type ParsedMessage, parseMessage } from './commands';
import { groupSettings } from './group-settings';
import type { Services } from './services';

/**
 * Which language the bot answers one person in, where a card cannot carry both (the ephemeral API takes no i18n
 * fields): the language of what they just wrote, else the chat's setting (`/lang`), else `BOT_LANGUAGE`.
 */

/**
 * What a message's own words say: a Chinese command name, or Chinese characters anywhere, mean Chinese; English
 * words after the command (`/todos mine`), English. The English command names are what everyone types, so alone
 * (`/todos`, `/help`) they say nothing, and the chat's setting decides.
 */
export function languageOfMessage(parsed: ParsedMessage): Language | undefined {
  switch (parsed.kind) {
    case 'command':
      return languageOfText(parsed.name) === 'zh_cn' ? 'zh_cn' : languageOfText(parsed.args);
    case 'chatter':
      return languageOfText(parsed.text);
    case 'mention-only':
      return undefined;
  }
}

/** The chat's language: what an admin chose (`/lang`, `/settings`), else `BOT_LANGUAGE`. */
export async function chatLanguage(services: Services, chatId: string): Promise<Language> {
  return (await groupSettings(services, chatId)).language;
}

/** The language to answer a message in. */
export async function messageLanguage(services: Services, message: { chatId: string; text?: string | undefined }): Promise<Language> {
  const own = message.text === undefined ? undefined : languageOfMessage(parseMessage(message.text));
  return own ?? chatLanguage(services, message.chatId);
}

/** The language a form or a to-do was made in; `BOT_LANGUAGE` for one stored before the bot spoke two. */
export function recordLanguage(services: Services, record: { language?: Language }): Language {
  return record.language ?? services.config.botLanguage;
}
