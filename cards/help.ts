import { buildCard, escapeMarkdown, type Card } from './parts';

/** Lists the commands, in markdown for the bold usages; the bot's own usages (`/todo [text]`) are escaped with Feishu's documented entities. */
export function helpCard(commands: ReadonlyArray<{ usage: string; description: string }>): Card {
  return buildCard({
    title: 'To-do bot commands',
    template: 'blue',
    elements: [
      {
        tag: 'markdown',
        content: commands.map((c) => `**${escapeMarkdown(c.usage)}** — ${escapeMarkdown(c.description)}`).join('\n'),
      },
      { tag: 'markdown', content: 'Commands work with or without @mentioning me.', text_size: 'notation' },
    ],
  });
}
