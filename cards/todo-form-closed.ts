import type { FormStatus } from '../src/domain/model';
import { type Language, type MessageKey, t } from '../src/i18n';
import { type Card, buildCard, privateVoice, typedText } from './parts';

/**
 * Why a form sent by direct message closed (a recalled `/todo` cancels its form), or `submitting`: submitted, its
 * to-do not yet posted (the click's own answer, before the post is made).
 */
export type ClosedFormOutcome = Exclude<FormStatus, 'open'>;

const SAID: Record<ClosedFormOutcome, MessageKey> = {
  submitting: 'formCard.closed.submitting',
  posted: 'formCard.closed.posted',
  cancelled: 'formCard.closed.cancelled',
  expired: 'formCard.closed.expired',
  replaced: 'formCard.closed.replaced',
};

/**
 * A form sent by direct message, once closed: a direct message cannot be deleted the way an ephemeral card is, so
 * it is updated in place to say what became of it, with no field and no Submit left.
 */
export function closedFormCard(p: { outcome: ClosedFormOutcome; lang: Language }): Card {
  const voice = privateVoice(p.lang);
  return buildCard({
    voice,
    title: 'formCard.closedTitle',
    template: p.outcome === 'posted' ? 'green' : 'grey',
    elements: [typedText(t(p.lang, SAID[p.outcome]))],
  });
}
