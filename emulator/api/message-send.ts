import { z } from 'zod';
import { badParam, Code, refuse } from '../errors';
import { perSecond } from '../rate-limits';
import type { EmulatorState } from '../state';
import type { EmulatedMessage } from '../types';
import { parseContent } from './card-content';
import { dissolved, liveChat } from './chats';
import { ok, parseBody, type Answer, type Handler } from './exchange';

const CHAT_QPS = 5;

const Content = {
  msg_type: z.enum(['text', 'interactive']),
  content: z.string({ error: 'must be a JSON string, not an object' }),
  uuid: z.string().min(1).max(50).optional(),
};
const CreateBody = z.object({ receive_id: z.string().min(1), ...Content });
const ReplyBody = z.object({ ...Content, reply_in_thread: z.boolean().optional() });

export const createMessage: Handler = (call, state) => {
  if (call.query.receive_id_type !== 'chat_id') throw badParam('receive_id_type: the emulator supports chat_id only');
  const body = parseBody(CreateBody, call.body);
  const chat = liveChat(state, body.receive_id);
  return send(state, { chatId: chat.chatId, kind: 'message', ...body });
};

export const replyToMessage: Handler = (call, state) => {
  const body = parseBody(ReplyBody, call.body);
  const parentId = call.params.message_id ?? '';
  const parent = state.messages.get(parentId);
  if (!parent) throw badParam(`message_id ${parentId}: no such message`);
  if (parent.kind === 'ephemeral') throw badParam('an ephemeral card cannot be replied to');
  if (state.chats.get(parent.chatId)?.dissolved) throw dissolved();
  if (parent.recalled) throw refuse(Code.recalled, 'The message being replied to has been recalled.');
  return send(state, { chatId: parent.chatId, kind: 'reply', parentId, ...body });
};

interface Outgoing {
  chatId: string;
  kind: 'message' | 'reply';
  parentId?: string;
  msg_type: 'text' | 'interactive';
  content: string;
  uuid?: string | undefined;
}

function send(state: EmulatorState, out: Outgoing): Answer {
  const content = parseContent(out.msg_type, out.content);
  state.limitLocal([perSecond(`send:${out.chatId}`, CHAT_QPS)]);
  const repeat = out.uuid === undefined ? undefined : state.messageByUuid(out.uuid);
  if (repeat) return ok(messageData(repeat, state));
  const message: EmulatedMessage = {
    messageId: state.nextMessageId('other'),
    chatId: out.chatId,
    kind: out.kind,
    msgType: out.msg_type,
    content,
    ...(out.msg_type === 'interactive' && { card: content }),
    ...(out.parentId !== undefined && { parentId: out.parentId }),
    ...(out.uuid !== undefined && { uuid: out.uuid }),
    recalled: false,
    deleted: false,
    updates: [],
    senderId: state.botOpenId,
    createdAt: state.now(),
  };
  state.store(message);
  return ok(messageData(message, state));
}

function messageData(message: EmulatedMessage, state: EmulatorState): object {
  return {
    message_id: message.messageId,
    ...(message.parentId !== undefined && { root_id: message.parentId, parent_id: message.parentId }),
    msg_type: message.msgType,
    create_time: String(message.createdAt),
    update_time: String(message.createdAt),
    deleted: false,
    updated: false,
    chat_id: message.chatId,
    sender: { id: state.appId, id_type: 'app_id', sender_type: 'app', tenant_key: state.tenantKey },
    body: { content: JSON.stringify(message.content) },
  };
}
