import type { Language } from '../src/i18n';
import { type Card, type HeaderTemplate, buildCard, privateVoice, typedText } from './parts';

export type NoticeTone = 'info' | 'warning' | 'error';

const TEMPLATE: Record<NoticeTone, HeaderTemplate> = { info: 'blue', warning: 'orange', error: 'red' };

/**
 * A short message to one person, in their language. The text (a sentence from the catalogs, which may quote what
 * people typed) is `plain_text`, so nothing it quotes can become markup.
 */
export function noticeCard(p: { text: string; lang: Language; tone?: NoticeTone }): Card {
  return buildCard({
    voice: privateVoice(p.lang),
    title: 'bot.name',
    template: TEMPLATE[p.tone ?? 'info'],
    elements: [typedText(p.text)],
  });
}
