import { z } from 'zod';
import { Code, badParam, refuse } from '../errors';
import { perMinute, perSecond } from '../rate-limits';
import type { EmulatorState } from '../state';
import type { EmulatedMessage } from '../types';
import { parseContent } from './card-content';
import { dissolved, liveChat } from './chats';
import { type Answer, type Handler, ok, parseBody } from './exchange';

const CHAT_QPS = 5;
/** Per app, for sending and replying together (the documented 1,000 a minute and 50 a second). */
const APP_QPS = 50;
const APP_PER_MINUTE = 1000;

const Content = {
  msg_type: z.enum(['text', 'interactive']),
  content: z.string({ error: 'must be a JSON string, not an object' }),
  uuid: z.string().min(1).max(50).optional(),
};
const CreateBody = z.object({ receive_id: z.string().min(1), ...Content });
const ReplyBody = z.object({ ...Content, reply_in_thread: z.boolean().optional() });

/**
 * To a chat (`receive_id_type=chat_id`), or to a person (`open_id`): a direct message, in the bot's direct chat with
 * them, which has a chat id of its own (the answer's `chat_id`, and the `open_chat_id` of clicks on its cards).
 */
export const createMessage: Handler = (call, state) => {
  const body = parseBody(CreateBody, call.body);
  if (call.query.receive_id_type === 'open_id') {
    if (state.unavailableUsers.has(body.receive_id)) {
      throw refuse(Code.notInAvailability, `${body.receive_id} is outside the app's availability`);
    }
    return send(state, { chatId: state.directChat(body.receive_id).chatId, kind: 'message', ...body });
  }
  if (call.query.receive_id_type !== 'chat_id') throw badParam('receive_id_type: the emulator supports chat_id and open_id');
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

/**
 * Where a new message sits: a reply is in its parent's thread (a topic group's topic, or a thread the parent started),
 * with the thread's first message as its root; a new message in a topic group starts a topic of its own.
 */
export function placement(state: EmulatorState, chatId: string, parentId?: string): Pick<EmulatedMessage, 'rootId' | 'threadId'> {
  const parent = parentId === undefined ? undefined : state.messages.get(parentId);
  if (parent) return { rootId: parent.rootId ?? parent.messageId, ...(parent.threadId !== undefined && { threadId: parent.threadId }) };
  return state.chats.get(chatId)?.mode === 'topic' ? { threadId: state.nextThreadId() } : {};
}

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
  state.limitApp([perSecond('message-send', APP_QPS), perMinute('message-send', APP_PER_MINUTE)]);
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
    ...placement(state, out.chatId, out.parentId),
    ...(out.uuid !== undefined && { uuid: out.uuid }),
    recalled: false,
    deleted: false,
    updates: [],
    senderId: state.botOpenId,
    senderType: 'app',
    createdAt: state.now(),
  };
  state.store(message);
  return ok(messageData(message, state));
}

/** A message as Feishu's message APIs describe it (send, reply, and get's `items`). */
export function messageData(message: EmulatedMessage, state: EmulatorState): object {
  const fromApp = message.senderType === 'app' || message.senderId === state.botOpenId;
  const senderName = fromApp ? undefined : state.names.get(message.senderId);
  return {
    message_id: message.messageId,
    ...(message.parentId !== undefined && { root_id: message.rootId ?? message.parentId, parent_id: message.parentId }),
    ...(message.threadId !== undefined && { thread_id: message.threadId }),
    msg_type: message.msgType,
    create_time: String(message.createdAt),
    update_time: String(message.createdAt),
    deleted: false,
    updated: false,
    chat_id: message.chatId,
    sender: fromApp
      ? { id: message.senderId === state.botOpenId ? state.appId : message.senderId, id_type: 'app_id', sender_type: 'app', tenant_key: state.tenantKey }
      : {
          id: message.senderId,
          id_type: 'open_id',
          sender_type: 'user',
          tenant_key: state.tenantKey,
          ...(senderName !== undefined && { sender_name: senderName }),
        },
    body: { content: typeof message.content === 'string' ? message.content : JSON.stringify(message.content) },
    ...(message.mentions !== undefined && { mentions: message.mentions.map((m) => ({ ...m, id_type: 'open_id', tenant_key: state.tenantKey })) }),
  };
}
