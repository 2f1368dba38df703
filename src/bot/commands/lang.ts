import type { Language } from '../../domain/languages';
import { changedChat } from '../../domain/model';
import { LANGUAGES, type MessageKey, parseLanguage, t } from '../../i18n';
import { noticeJob } from '../jobs/notice';
import { chatLanguage } from '../language';
import type { CommandMiddleware } from '../router';

const LANGUAGE_NAME: Record<Language, MessageKey> = { zh_cn: 'language.zh_cn', en_us: 'language.en_us' };

/** `zh`, `en_us`, or a language's name in either language (`中文`, `English`, `英文`), any case. */
function languageNamed(words: string): Language | undefined {
  const word = words.trim().toLowerCase();
  return parseLanguage(word) ?? LANGUAGES.find((lang) => LANGUAGES.some((reader) => t(reader, LANGUAGE_NAME[lang]).toLowerCase() === word));
}

/**
 * `/lang zh|en` (`/语言 中文|英文`): the language of the bot's private cards and notices in this chat, for the
 * commands whose own words do not tell (`/todos`, a bare mention). Group admins only (see the router). Without a
 * choice it says which language is in use and how to change it. The setting and the answer, in the language just
 * chosen, are committed together.
 */
export const chooseLanguage: CommandMiddleware = async (ctx) => {
  const { services, message, args } = ctx;
  const chosen = languageNamed(args);
  if (chosen === undefined) {
    const current = await chatLanguage(services, message.chatId);
    return ctx.reply('lang.current', { values: { language: t(ctx.lang, LANGUAGE_NAME[current]) } });
  }
  const existing = await services.store.chat(message.chatId);
  const settings = changedChat(existing, message.chatId, { language: chosen, updatedAt: services.now() });
  await ctx.commit({
    chats: [settings],
    jobs: [
      noticeJob(services, `${message.eventId}:lang`, {
        chatId: message.chatId,
        userId: message.senderId,
        text: t(chosen, 'lang.set'),
        lang: chosen,
        replyTo: message.messageId,
        chatType: message.chatType,
      }),
    ],
  });
};
