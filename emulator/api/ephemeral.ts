import { z } from 'zod';
import { localI18nField } from '../card-rules';
import { Code, badParam, refuse } from '../errors';
import { perMinute, perSecond } from '../rate-limits';
import type { EmulatedMessage } from '../types';
import { acceptCard } from './card-content';
import { liveChat } from './chats';
import { type Handler, ok, parseBody } from './exchange';

const SendBody = z.object({
  chat_id: z.string().min(1),
  open_id: z.string().min(1).optional(),
  user_id: z.string().min(1).optional(),
  email: z.string().min(1).optional(),
  msg_type: z.literal('interactive'),
  card: z.record(z.string(), z.unknown(), { error: 'must be a card JSON object, not a string' }),
});
const DeleteBody = z.object({ message_id: z.string().min(1) });

/** Seed 004. The emulator's people are known by open_id only, so a user_id or email matches no member. */
export const sendEphemeral: Handler = (call, state) => {
  state.limitApp([perSecond('ephemeral-send', 50), perMinute('ephemeral-send', 1000)]);
  const body = parseBody(SendBody, call.body);
  const viewer = body.open_id ?? body.user_id ?? body.email;
  if (viewer === undefined) throw badParam('open_id, user_id or email is required');
  const chat = liveChat(state, body.chat_id);
  if (chat.chatType !== 'group') throw badParam('ephemeral is only for group chats');
  // "仅特定人可见的消息卡片" does not support topic groups; the code Feishu answers with there is not documented.
  if (chat.mode === 'topic') throw badParam('ephemeral cards are not supported in topic groups');
  if (!chat.memberIds.includes(viewer)) {
    throw refuse(Code.notInAvailability, `${viewer} is not a member of chat ${chat.chatId}`);
  }
  state.limitLocal([perSecond(`ephemeral-send:${chat.chatId}`, 40)]);
  acceptCard(body.card);
  // "发送仅特定人可见的消息卡片接口不支持为卡片局部配置多语言" (configure-multi-language-content): refused here, so a
  // private card written with both languages fails the tests instead of showing the wrong one.
  const i18nField = localI18nField(body.card);
  if (i18nField) throw refuse(Code.cardRejected, `card content rejected: the ephemeral API takes no local i18n (${i18nField})`);
  const message: EmulatedMessage = {
    messageId: state.nextMessageId('ephemeral'),
    chatId: chat.chatId,
    kind: 'ephemeral',
    msgType: 'interactive',
    content: body.card,
    card: body.card,
    visibleTo: viewer,
    recalled: false,
    deleted: false,
    updates: [],
    senderId: state.botOpenId,
    createdAt: state.now(),
  };
  state.store(message);
  return ok({ message_id: message.messageId }, 'ok');
};

/** Seed 000: deleting twice answers 18051, which the bot must treat as done. */
export const deleteEphemeral: Handler = (call, state) => {
  state.limitApp([perSecond('ephemeral-delete', 50), perMinute('ephemeral-delete', 1000)]);
  const body = parseBody(DeleteBody, call.body);
  const message = state.messages.get(body.message_id);
  if (message?.kind !== 'ephemeral' || message.deleted) {
    throw refuse(Code.ephemeralDeleted, 'message has been deleted');
  }
  message.deleted = true;
  return { body: { code: 0, msg: 'ok' } };
};
