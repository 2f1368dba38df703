import { buildCard, type Card, type HeaderTemplate, typedText } from './parts';

export type NoticeTone = 'info' | 'warning' | 'error';

const TEMPLATE: Record<NoticeTone, HeaderTemplate> = { info: 'blue', warning: 'orange', error: 'red' };

/** A short message to one person. The text is `plain_text`, so whatever it quotes cannot become markup. */
export function noticeCard(p: { text: string; title?: string; tone?: NoticeTone }): Card {
  return buildCard({
    title: p.title ?? 'To-do bot',
    template: TEMPLATE[p.tone ?? 'info'],
    elements: [typedText(p.text)],
  });
}
