import { Code, badParam, refuse } from '../errors';
import { type Handler, ok } from './exchange';
import { messageData } from './message-send';

/**
 * `GET /open-apis/im/v1/messages/:message_id`: the message as `data.items[0]` (the SDK's generated client reads it
 * there), with `sender_name` when asked (`with_sender_name`). A recalled message is refused as recalled (230011), a
 * deleted one as deleted (230110); without a message read scope the call is refused (99991672), and so is a group's
 * message without `im:message.group_msg` as well (Feishu's 获取指定消息的内容, 权限要求).
 */
export const getMessage: Handler = (call, state) => {
  if (!state.messageScopeGranted) throw refuse(Code.scopeMissing, 'Access denied. One of the following scopes is required: [im:message, im:message:readonly]');
  const id = call.params.message_id ?? '';
  const message = state.messages.get(id);
  if (!message || message.kind === 'ephemeral') throw badParam(`message_id ${id}: no such message`);
  if (!state.groupMessageScopeGranted && state.chats.get(message.chatId)?.chatType === 'group') {
    throw refuse(Code.scopeMissing, 'Access denied. One of the following scopes is required: [im:message.group_msg]');
  }
  if (message.recalled) throw refuse(Code.recalled, 'The message has been recalled.');
  if (message.deleted) throw refuse(Code.alreadyDeleted, 'The message has been deleted.');
  const data = messageData(message, state) as { sender: { sender_name?: string } };
  if (call.query.with_sender_name !== 'true') delete data.sender.sender_name;
  return ok({ items: [data] });
};

/** `GET /open-apis/im/v1/chats/:chat_id/members`: the chat's people, 100 a page at most (`page_size`), bots left out. */
export const getChatMembers: Handler = (call, state) => {
  const chat = state.chats.get(call.params.chat_id ?? '');
  if (!chat) throw refuse(Code.chatNotFound, 'chat not found');
  const size = Math.min(Math.max(Number(call.query.page_size ?? 20) || 20, 1), 100);
  const start = Number(call.query.page_token ?? 0) || 0;
  const page = chat.memberIds.slice(start, start + size);
  const next = start + page.length;
  return ok({
    items: page.map((openId) => ({ member_id_type: 'open_id', member_id: openId, name: state.names.get(openId) ?? openId, tenant_key: state.tenantKey })),
    page_token: next < chat.memberIds.length ? String(next) : '',
    has_more: next < chat.memberIds.length,
    member_total: chat.memberIds.length,
  });
};
