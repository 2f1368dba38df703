import { z } from 'zod';
import { Code, badParam, refuse } from '../errors';
import { perSecond } from '../rate-limits';
import { parseContent } from './card-content';
import { dissolved } from './chats';
import { type Handler, ok, parseBody } from './exchange';

const UPDATE_WINDOW_MS = 14 * 24 * 60 * 60 * 1000;
const MESSAGE_QPS = 5;

const PatchBody = z.object({ content: z.string({ error: 'must be a JSON string, not an object' }) });

/** A shared card is replaced for everyone, so Feishu wants both cards to say so explicitly. */
const statesUpdateMulti = (card: unknown) => (card as { config?: { update_multi?: unknown } } | undefined)?.config?.update_multi === true;

export const updateCard: Handler = (call, state) => {
  const body = parseBody(PatchBody, call.body);
  const id = call.params.message_id ?? '';
  const message = state.messages.get(id);
  if (!message) throw badParam(`message_id ${id}: no such message`);
  if (message.kind === 'ephemeral') throw badParam('ephemeral cards cannot be updated: delete and send again');
  if (message.senderId !== state.botOpenId || message.msgType !== 'interactive') {
    throw badParam('not a card the bot sent');
  }
  if (message.recalled) throw refuse(Code.recalled, 'The message has been recalled.');
  if (state.chats.get(message.chatId)?.dissolved) throw dissolved();
  if (state.now() - message.createdAt > UPDATE_WINDOW_MS) {
    throw refuse(Code.updateWindowPassed, 'The card can no longer be updated: updates are accepted for 14 days.');
  }
  state.limitLocal([perSecond(`patch:${id}`, MESSAGE_QPS)]);
  const card = parseContent('interactive', body.content);
  if (!statesUpdateMulti(message.card) || !statesUpdateMulti(card)) {
    throw refuse(Code.cardRejected, 'update_multi must be true in config of both the sent card and the new one');
  }
  message.card = card;
  message.content = card;
  message.updates.push(card);
  return ok({});
};
