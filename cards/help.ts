import { type Language, type MessageKey, t } from '../src/i18n';
import { type Card, buildCard, escapeMarkdown, markdown, privateVoice } from './parts';

/** A command as the help card lists it: its name in each language, its arguments and what it does. */
export interface CommandHelp {
  names: Record<Language, string>;
  args?: MessageKey;
  description: MessageKey;
}

/**
 * Lists the commands in the reader's language: each under its name in that language first (`/待办 [内容]` for a
 * Chinese reader), then its name in the other. Markdown for the bold usages; the bot's own usages are escaped with
 * Feishu's documented entities.
 */
export function helpCard(lang: Language, commands: readonly CommandHelp[]): Card {
  const other: Language = lang === 'zh_cn' ? 'en_us' : 'zh_cn';
  const line = (command: CommandHelp) =>
    t(lang, 'help.line', {
      usage: escapeMarkdown(`/${command.names[lang]}${command.args ? ` ${t(lang, command.args)}` : ''}`),
      alias: escapeMarkdown(command.names[other]),
      description: escapeMarkdown(t(lang, command.description)),
    });
  const voice = privateVoice(lang);
  return buildCard({
    voice,
    title: 'help.title',
    template: 'blue',
    elements: [markdown(() => commands.map(line).join('\n'), voice), markdown('help.footer', voice, { text_size: 'notation' })],
  });
}
