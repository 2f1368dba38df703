import type { CardMessage, Todo } from './model';

/**
 * Which card of a to-do is current. Feishu lets a card message be clicked and updated for 14 days after it was sent;
 * a to-do open longer than that (a repeating one, one due in three weeks) would be left with a dead card. So a
 * reminder fired when the current card is older than `CARD_TAKEOVER_AGE_MS` carries the to-do's full state and
 * buttons and becomes the current card, a day before the old one stops answering.
 */

/** How long Feishu lets a card be clicked and updated after it was sent. */
export const CARD_LIFE_MS = 14 * 24 * 60 * 60 * 1000;
/** Feishu's code for an update of a card past those 14 days. */
export const CARD_TOO_OLD = 230031;
/** A reminder takes over from a current card older than this. */
export const CARD_TAKEOVER_AGE_MS = 13 * 24 * 60 * 60 * 1000;

/** The card Done, Reopen, `/recall` and updates act on; to-dos posted before it was recorded count from creation. */
export function currentCard(todo: Todo): CardMessage | undefined {
  if (todo.currentCard) return todo.currentCard;
  return todo.messageId === undefined ? undefined : { messageId: todo.messageId, sentAt: todo.createdAt };
}

/** Whether a reminder sent now should carry the whole to-do and become its current card. */
export function cardNeedsTakeover(todo: Todo, now: number): boolean {
  const card = currentCard(todo);
  return card !== undefined && now - card.sentAt > CARD_TAKEOVER_AGE_MS;
}

/** Whether `messageId` is one of the to-do's cards: the posted one or the current one. */
export function isTodoCard(todo: Todo, messageId: string | undefined): boolean {
  return messageId !== undefined && (messageId === todo.messageId || messageId === todo.currentCard?.messageId);
}

/** Whether a reminder took over as the to-do's card: its card then keeps the reminder's mentions and Snooze buttons. */
export function reminderTookOver(todo: Todo): boolean {
  return todo.currentCard !== undefined && todo.currentCard.messageId !== todo.messageId;
}
