import { z } from 'zod';
import { canonicalZone } from '../domain/zones';
import { CodedError, ErrorCode } from '../errors';
import { type Mention, MessageContentError, readMessageText } from './message-content';

export type { Mention } from './message-content';

/**
 * Feishu's push envelopes, parsed once at the edge into the two shapes the bot handles. Nothing past this file
 * sees Feishu's field names or an untyped payload.
 */

const envelopeHeader = z.object({
  event_id: z.string().min(1).max(128),
  event_type: z.string(),
  // Read through `milliseconds`, whatever it is: a time the bot only orders by or counts from never costs an event.
  create_time: z.unknown().optional(),
});

const messageEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader.extend({ event_type: z.literal('im.message.receive_v1') }),
  event: z.object({
    sender: z.object({
      sender_id: z.object({ open_id: z.string().min(1) }),
      sender_type: z.string().optional(),
    }),
    message: z.object({
      message_id: z.string().min(1),
      create_time: z.unknown().optional(),
      parent_id: z.string().optional(),
      root_id: z.string().optional(),
      thread_id: z.string().optional(),
      chat_id: z.string().min(1),
      chat_type: z.string(),
      message_type: z.string(),
      content: z.string(),
      // `@_all` comes with empty ids; other API shapes give `id` as the open_id string or leave it out.
      mentions: z
        .array(
          z.object({
            key: z.string(),
            id: z.union([z.object({ open_id: z.string().optional() }), z.string()]).optional(),
            name: z.string().optional(),
          }),
        )
        .optional(),
    }),
  }),
});

const cardActionEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader.extend({ event_type: z.literal('card.action.trigger') }),
  event: z.object({
    operator: z.object({ open_id: z.string().min(1) }),
    token: z.string().optional(),
    action: z.object({
      tag: z.string().optional(),
      name: z.string().optional(),
      value: z.unknown().optional(),
      form_value: z.record(z.string(), z.unknown()).optional(),
      // Any value is accepted here and canonicalised below: a zone that is not one is dropped, not the click.
      timezone: z.unknown().optional(),
    }),
    context: z.object({ open_message_id: z.string().optional(), open_chat_id: z.string().optional() }).optional(),
  }),
});

/** `im.message.recalled_v1`: a message of a chat the bot is in was recalled (node-sdk's generated event types). */
const recalledEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader.extend({ event_type: z.literal('im.message.recalled_v1') }),
  event: z.object({ message_id: z.string().min(1), chat_id: z.string().min(1), recall_time: z.string().optional(), recall_type: z.string().optional() }),
});

/**
 * The bot added to a chat, removed from it, or the chat disbanded (`im.chat.member.bot.added_v1`,
 * `im.chat.member.bot.deleted_v1`, `im.chat.disbanded_v1`): each names the chat in `event.chat_id`.
 */
const membershipEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader,
  event: z.object({ chat_id: z.string().min(1) }),
});

/**
 * People joining or leaving a chat the bot is in (`im.chat.member.user.added_v1`, `…deleted_v1`, and `…withdrawn_v1`:
 * an invitation taken back), each in `event.users`, named by `user_id.open_id`.
 */
const membersEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader,
  event: z.object({
    chat_id: z.string().min(1),
    users: z.array(z.object({ user_id: z.object({ open_id: z.string().nullish() }).nullish() })).optional(),
  }),
});

/** `task.task.update_user_access_v2` names the task by `task_guid`; the v1 `task.task.updated_v1` by `task_id`. */
const taskEnvelope = z.object({
  schema: z.literal('2.0'),
  header: envelopeHeader,
  event: z.union([z.object({ task_guid: z.string().min(1).max(100) }), z.object({ task_id: z.string().min(1).max(100) })]),
});

const anyEnvelope = z.object({ schema: z.literal('2.0'), header: envelopeHeader });

export interface MessageEvent {
  type: 'message';
  eventId: string;
  messageId: string;
  chatId: string;
  chatType: 'group' | 'p2p' | 'other';
  senderId: string;
  senderIsUser: boolean;
  parentId?: string | undefined;
  /**
   * The topic (thread) the message is in. Inside one every message's `parent_id` is the topic's first message,
   * whatever the person replied to (Feishu's message overview: 在话题内回复的消息，都是在回复根消息).
   */
  threadId?: string | undefined;
  /** The words of a text or rich-text (post) message, mentions as their keys; undefined for other message types. */
  text?: string | undefined;
  mentions: Mention[];
  /**
   * When the person sent it (the message's `create_time`, ms), when Feishu says: a push Feishu delivers late (it
   * retries for hours while the bot is down) still names its times ("in 2 hours", "at 3pm") from then.
   */
  sentAt?: number | undefined;
}

export interface CardActionEvent {
  type: 'card_action';
  eventId: string;
  operatorId: string;
  chatId?: string | undefined;
  messageId?: string | undefined;
  /** The clicked component's callback value, unparsed: the bot validates it with its own schema. */
  value: unknown;
  name?: string | undefined;
  formValue: Record<string, unknown>;
  /**
   * The clicking device's zone, canonical (`Asia/Shanghai`); absent when the callback carried none (Feishu documents
   * it for picker interactions only) or one that is not a real zone.
   */
  timeZone?: string | undefined;
}

/** Feishu says a task changed (never what changed: the bot reads the task to learn it). */
export interface TaskEvent {
  type: 'task';
  eventId: string;
  taskGuid: string;
}

/** People joined the chat, or left it (or were taken out of it). */
export interface MembersEvent {
  type: 'members';
  eventId: string;
  chatId: string;
  left: boolean;
  userIds: string[];
  /** When Feishu made the event (ms; its header's `create_time`). */
  at?: number | undefined;
}

/** The bot is in the chat again, or no longer (removed, or the chat disbanded). */
export interface MembershipEvent {
  type: 'membership';
  eventId: string;
  chatId: string;
  botPresent: boolean;
  /** When Feishu made the event (ms; its header's `create_time`): a redelivered older one must not undo a newer. */
  at?: number | undefined;
}

export interface OtherEvent {
  type: 'other';
  eventId: string;
  eventType: string;
}

/** A message was recalled: a `/todo` recalled while its form is open closes the form. */
export interface RecalledEvent {
  type: 'recalled';
  eventId: string;
  messageId: string;
  chatId: string;
}

export type FeishuEvent = MessageEvent | CardActionEvent | RecalledEvent | TaskEvent | MembershipEvent | MembersEvent | OtherEvent;

export class EventShapeError extends CodedError {
  readonly code = ErrorCode.EventUnrecognised;

  constructor(detail: string) {
    super(`Push is not a Feishu event this bot understands: ${detail}`);
  }
}

/** One validation pass per push: the schema is picked by the event type, which each schema checks again. */
export function parseEvent(payload: Record<string, unknown>): FeishuEvent {
  switch ((payload.header as { event_type?: unknown } | undefined)?.event_type) {
    case 'im.message.receive_v1':
      return toMessage(parseWith(messageEnvelope, payload));
    case 'im.message.recalled_v1': {
      const { header, event } = parseWith(recalledEnvelope, payload);
      return { type: 'recalled', eventId: header.event_id, messageId: event.message_id, chatId: event.chat_id };
    }
    case 'card.action.trigger':
      return toCardAction(parseWith(cardActionEnvelope, payload));
    case 'task.task.update_user_access_v2':
    case 'task.task.updated_v1': {
      const { header, event } = parseWith(taskEnvelope, payload);
      return { type: 'task', eventId: header.event_id, taskGuid: 'task_guid' in event ? event.task_guid : event.task_id };
    }
    case 'im.chat.member.bot.added_v1':
    case 'im.chat.member.bot.deleted_v1':
    case 'im.chat.disbanded_v1': {
      const { header, event } = parseWith(membershipEnvelope, payload);
      return {
        type: 'membership',
        eventId: header.event_id,
        chatId: event.chat_id,
        botPresent: header.event_type === 'im.chat.member.bot.added_v1',
        ...madeAt(header),
      };
    }
    case 'im.chat.member.user.added_v1':
    case 'im.chat.member.user.deleted_v1':
    case 'im.chat.member.user.withdrawn_v1': {
      const { header, event } = parseWith(membersEnvelope, payload);
      return {
        type: 'members',
        eventId: header.event_id,
        chatId: event.chat_id,
        left: header.event_type !== 'im.chat.member.user.added_v1',
        userIds: (event.users ?? []).flatMap((user) => (user.user_id?.open_id ? [user.user_id.open_id] : [])),
        ...madeAt(header),
      };
    }
    default: {
      const envelope = anyEnvelope.safeParse(payload);
      if (!envelope.success) throw new EventShapeError('no schema 2.0 envelope with an event_id');
      return { type: 'other', eventId: envelope.data.header.event_id, eventType: envelope.data.header.event_type };
    }
  }
}

/** When Feishu made the event (its header's `create_time`, ms), when the header says. */
function madeAt(header: { create_time?: unknown }): { at?: number } {
  const at = milliseconds(header.create_time);
  return at === undefined ? {} : { at };
}

/** A time Feishu writes as a string of milliseconds (or a number of them); undefined when absent or not one. */
export function milliseconds(value: unknown): number | undefined {
  const at = typeof value === 'string' || typeof value === 'number' ? Number(value) : Number.NaN;
  return Number.isFinite(at) && at > 0 ? at : undefined;
}

function parseWith<T>(schema: z.ZodType<T>, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new EventShapeError(`${first?.path.join('.') ?? '?'} ${first?.message ?? ''}`.trim());
  }
  return parsed.data;
}

function toMessage({ header, event }: z.infer<typeof messageEnvelope>): MessageEvent {
  const m = event.message;
  const said = readContent(m.message_type, m.content, (m.mentions ?? []).map(toMention));
  return {
    type: 'message',
    eventId: header.event_id,
    messageId: m.message_id,
    chatId: m.chat_id,
    chatType: chatTypeOf(m.chat_type),
    senderId: event.sender.sender_id.open_id,
    senderIsUser: (event.sender.sender_type ?? 'user') === 'user',
    parentId: m.parent_id || undefined,
    threadId: m.thread_id || undefined,
    text: said?.text,
    mentions: said?.mentions ?? [],
    sentAt: milliseconds(m.create_time),
  };
}

/**
 * A topic group's messages come as `topic_group` (the SDKs' event models: "p2p：单聊; group：群组; topic_group：话题群")
 * or, as our contract read the docs, as `group` with a `thread_id`: either way a group chat, whose topic mode the bot
 * learns from the chat itself (`chatMode`).
 */
function chatTypeOf(chatType: string): MessageEvent['chatType'] {
  if (chatType === 'group' || chatType === 'topic_group') return 'group';
  return chatType === 'p2p' ? 'p2p' : 'other';
}

type RawMention = NonNullable<z.infer<typeof messageEnvelope>['event']['message']['mentions']>[number];

function toMention(raw: RawMention): Mention {
  const id = typeof raw.id === 'string' ? raw.id : raw.id?.open_id;
  // `@_all` carries empty ids (some tools write "all"): it names no person.
  const openId = id && id !== 'all' ? id : undefined;
  return { key: raw.key, ...(openId !== undefined && { openId }), name: raw.name ?? '' };
}

function readContent(messageType: string, content: string, mentions: Mention[]) {
  try {
    return readMessageText(messageType, content, mentions);
  } catch (error) {
    if (error instanceof MessageContentError) throw new EventShapeError(error.message);
    throw error;
  }
}

function toCardAction({ header, event }: z.infer<typeof cardActionEnvelope>): CardActionEvent {
  return {
    type: 'card_action',
    eventId: header.event_id,
    operatorId: event.operator.open_id,
    chatId: event.context?.open_chat_id,
    messageId: event.context?.open_message_id,
    value: event.action.value,
    name: event.action.name,
    formValue: event.action.form_value ?? {},
    timeZone: canonicalZone(event.action.timezone),
  };
}

/** What a card callback may answer: a toast, and/or a card that replaces the clicked one. */
export interface CardActionAnswer {
  /** `content` in one language, `i18n` in each (Feishu shows the reader's client language). */
  toast?: { type: 'success' | 'error' | 'warning' | 'info'; content: string; i18n?: Record<string, string> } | undefined;
  card?: { type: 'raw'; data: object } | undefined;
}
