import { buildCard, escapeMarkdown, type Card } from './parts';

/** Lists the commands; usages such as `/todo <text>` need escaping or their `<text>` would vanish as a tag. */
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
