import { Code, badParam, refuse } from '../errors';
import type { EmulatorState } from '../state';
import type { EmulatedChat } from '../types';
import { type Handler, ok } from './exchange';

export const botInfo: Handler = (_call, state) => ({
  body: {
    code: 0,
    msg: 'ok',
    bot: { open_id: state.botOpenId, app_name: 'To-do Bot', activate_status: 2, avatar_url: '', ip_white_list: [] },
  },
});

export const getChat: Handler = (call, state) => {
  const chat = state.chats.get(call.params.chat_id ?? '');
  if (!chat) throw refuse(Code.chatNotFound, 'chat not found');
  if (chat.dissolved) throw dissolved();
  return ok({
    chat_id: chat.chatId,
    name: `Chat ${chat.chatId}`,
    description: '',
    owner_id: chat.ownerId,
    owner_id_type: 'open_id',
    user_manager_id_list: chat.managerIds,
    bot_manager_id_list: [],
    chat_mode: chat.chatType === 'p2p' ? 'p2p' : (chat.mode ?? 'group'),
    chat_type: 'private',
    external: false,
    tenant_key: state.tenantKey,
    user_count: String(chat.memberIds.length),
    bot_count: '1',
  });
};

/** A chat the bot can post into: unknown ids are a bad parameter, dissolved chats have their own code. */
export function liveChat(state: EmulatorState, chatId: string): EmulatedChat {
  const chat = state.chats.get(chatId);
  if (!chat) throw badParam(`chat_id ${chatId} is invalid: no such chat`);
  if (chat.dissolved) throw dissolved();
  return chat;
}

export const dissolved = () => refuse(Code.chatDissolved, 'Your request specifies a chat which has already been dissolved.');
