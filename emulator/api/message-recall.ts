import { Code, badParam, refuse } from '../errors';
import { perMinute, perSecond } from '../rate-limits';
import { dissolved } from './chats';
import { type Handler, ok } from './exchange';

/** Seeds 002/003. Codes the emulator cannot reach by state (230009, 230027…) come from fault injection. */
export const recallMessage: Handler = (call, state) => {
  state.limitApp([perSecond('recall', 50), perMinute('recall', 1000)]);
  const id = call.params.message_id ?? '';
  const message = state.messages.get(id);
  if (!message) throw badParam(`message_id ${id}: no such message`);
  if (message.kind === 'ephemeral') {
    throw badParam('ephemeral cards are removed with POST /open-apis/ephemeral/v1/delete');
  }
  if (state.chats.get(message.chatId)?.dissolved) throw dissolved();
  if (message.senderId !== state.botOpenId) {
    throw refuse(Code.noRecallPermission, 'No permission to recall this message.');
  }
  if (message.recalled) throw refuse(Code.alreadyDeleted, 'Action unavailable as the message has been deleted.');
  message.recalled = true;
  return ok({});
};
