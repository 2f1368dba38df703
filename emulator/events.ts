import { randomBytes } from 'node:crypto';

/**
 * Payloads as Feishu sends them (v2 envelopes). Plain objects: pass them to `emulator.push`, or change a field first
 * to build a forged or malformed one.
 */

const DEFAULT_APP_ID = 'cli_test_app';
const TENANT_KEY = 'tenant_test';

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The emulator's people are known by open_id; their user_id and union_id are derived from it. */
function userIds(openId: string) {
  const name = openId.replace(/^ou_/, '');
  return { open_id: openId, user_id: `u_${name}`, union_id: `on_${name}` };
}

function header(p: { token: string; eventType: string; eventId?: string | undefined; appId?: string | undefined; createTime: number }) {
  return {
    event_id: p.eventId ?? randomHex(16),
    event_type: p.eventType,
    create_time: String(p.createTime),
    token: p.token,
    app_id: p.appId ?? DEFAULT_APP_ID,
    tenant_key: TENANT_KEY,
  };
}

/**
 * A person mentioned in a message. `@_all` (everyone) comes with empty ids, as Feishu sends it; a person is known by
 * open_id.
 */
export interface MentionSpec {
  key: string;
  openId?: string;
  name: string;
}

/**
 * `text` as typed. Sent as `text` it is `{"text": ...}`; as `post` (what a client sends once the person adds any
 * formatting, a line break or a link) it becomes rich text: each line a paragraph, each mention key an `at`
 * element, the words `text` elements (`bold` when asked), a URL an `a` element.
 */
export function messageContent(format: 'text' | 'post', text: string, mentions: MentionSpec[], style: string[] = []): string {
  if (format === 'text') return JSON.stringify({ text });
  const named = new Map(mentions.map((m) => [m.key, m.name]));
  const paragraph = (line: string) =>
    line
      .split(/(@_user_\d+|@_all|https?:\/\/\S+)/)
      .filter((part) => part !== '')
      .map((part) => {
        if (part === '@_all') return { tag: 'at', user_id: '@_all', user_name: named.get(part) ?? '所有人' };
        if (named.has(part)) return { tag: 'at', user_id: part, user_name: named.get(part) };
        if (/^https?:\/\//.test(part)) return { tag: 'a', text: part, href: part, style };
        return { tag: 'text', text: part, style };
      });
  return JSON.stringify({ title: '', content: text.split('\n').map(paragraph) });
}

function mentionOf(m: MentionSpec) {
  const ids = m.openId === undefined ? { union_id: '', user_id: '', open_id: '' } : userIds(m.openId);
  return { key: m.key, id: ids, name: m.name, tenant_key: m.openId === undefined ? '' : TENANT_KEY };
}

export function messageEvent(p: {
  token: string;
  chatId?: string | undefined;
  /** `topic_group` as the SDKs' event models name a topic group's messages; `group` (the default) as our contract does. */
  chatType?: 'group' | 'p2p' | 'topic_group' | undefined;
  senderId: string;
  text: string;
  /** Default `text`; `post` sends the same words as rich text. */
  format?: 'text' | 'post' | undefined;
  /** Styles of the post's words, e.g. `['bold']`. */
  style?: string[] | undefined;
  mentions?: MentionSpec[] | undefined;
  parentId?: string | undefined;
  /** The thread's first message, when it is not the parent (a reply to a reply). */
  rootId?: string | undefined;
  /** A topic group's topic (every message there has one), or a thread's. */
  threadId?: string | undefined;
  eventId?: string | undefined;
  messageId?: string | undefined;
  createTime?: number | undefined;
  appId?: string | undefined;
}): object {
  const createTime = p.createTime ?? Date.now();
  const mentions = (p.mentions ?? []).map(mentionOf);
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'im.message.receive_v1', createTime }),
    event: {
      sender: { sender_id: userIds(p.senderId), sender_type: 'user', tenant_key: TENANT_KEY },
      message: {
        message_id: p.messageId ?? `om_${randomHex(16)}`,
        // Feishu leaves these out of messages that are not replies, and `mentions` out when nobody is mentioned.
        ...(p.parentId !== undefined && { root_id: p.rootId ?? p.parentId, parent_id: p.parentId }),
        ...(p.threadId !== undefined && { thread_id: p.threadId }),
        create_time: String(createTime),
        update_time: String(createTime),
        chat_id: p.chatId ?? 'oc_group',
        chat_type: p.chatType ?? 'group',
        message_type: p.format ?? 'text',
        content: messageContent(p.format ?? 'text', p.text, p.mentions ?? [], p.style),
        ...(mentions.length > 0 && { mentions }),
      },
    },
  };
}

export function cardActionEvent(p: {
  token: string;
  operatorId: string;
  chatId?: string | undefined;
  messageId: string;
  /** The button's callback value; left out entirely when undefined (some clients drop it on a form submit). */
  value?: Record<string, unknown> | undefined;
  /** The clicked component's `name` (a form's submit button has one). */
  name?: string | undefined;
  tag?: string | undefined;
  formValue?: Record<string, unknown> | undefined;
  timezone?: string | undefined;
  eventId?: string | undefined;
  appId?: string | undefined;
}): object {
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'card.action.trigger', createTime: Date.now() }),
    event: {
      operator: { ...userIds(p.operatorId), tenant_key: TENANT_KEY },
      token: `c-${randomHex(16)}`,
      action: {
        tag: p.tag ?? 'button',
        ...(p.name !== undefined && { name: p.name }),
        ...(p.value !== undefined && { value: p.value }),
        ...(p.formValue !== undefined && { form_value: p.formValue }),
        ...(p.timezone !== undefined && { timezone: p.timezone }),
      },
      host: 'im_message',
      context: { open_message_id: p.messageId, open_chat_id: p.chatId ?? 'oc_group' },
    },
  };
}

/** Sent when the URL is saved in the console: encrypted when a key is set, but never signed (push with sign: false). */
export function urlChallenge(p: { token: string; challenge: string }): object {
  return { challenge: p.challenge, token: p.token, type: 'url_verification' };
}

/**
 * `im.message.recalled_v1`, as node-sdk's generated event types describe it: the message recalled, its chat, when
 * (`recall_time`, ms as a string) and by whom (`recall_type`).
 */
export function messageRecalledEvent(p: {
  token: string;
  messageId: string;
  chatId?: string | undefined;
  recallType?: 'message_owner' | 'group_owner' | 'group_manager' | 'enterprise_manager' | undefined;
  eventId?: string | undefined;
  appId?: string | undefined;
}): object {
  const now = Date.now();
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'im.message.recalled_v1', createTime: now }),
    event: { message_id: p.messageId, chat_id: p.chatId ?? 'oc_group', recall_time: String(now), recall_type: p.recallType ?? 'message_owner' },
  };
}

/**
 * `task.task.update_user_access_v2`: says *that* a task the app subscribed to changed (`event_types`, e.g.
 * `task_completed_update`, `task_assignees_update`, `task_deleted`), never what it is now: read the task to learn it.
 * Feishu sends it for the app's own changes too.
 */
export function taskUpdateEvent(p: { token: string; taskGuid: string; eventTypes: string[]; eventId?: string; appId?: string }): object {
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'task.task.update_user_access_v2', createTime: Date.now() }),
    event: { task_guid: p.taskGuid, event_types: p.eventTypes },
  };
}

/** What every event about a chat's members names: the chat, and when Feishu made it. */
interface ChatEventParams {
  token: string;
  chatId: string;
  eventId?: string;
  appId?: string;
  /** When Feishu made it (ms): a redelivery keeps its first time. */
  createTime?: number;
}

/**
 * The bot added to a chat or removed from it (`im.chat.member.bot.added_v1` / `deleted_v1`), as Feishu's SDKs model
 * them: the chat, its name, and who did it.
 */
export function botMembershipEvent(p: ChatEventParams & { added: boolean; operatorId?: string }): object {
  return {
    schema: '2.0',
    header: header({ ...p, eventType: p.added ? 'im.chat.member.bot.added_v1' : 'im.chat.member.bot.deleted_v1', createTime: p.createTime ?? Date.now() }),
    event: {
      chat_id: p.chatId,
      operator_id: { open_id: p.operatorId ?? 'ou_admin', union_id: 'on_operator', user_id: 'operator' },
      external: false,
      operator_tenant_key: 'tenant',
      name: 'Team',
      i18n_names: { zh_cn: 'Team', en_us: 'Team' },
    },
  };
}

/**
 * People joined a chat the bot is in (`im.chat.member.user.added_v1`) or left it (`…deleted_v1`; `…withdrawn_v1`
 * when their invitation was taken back), as a real tenant's push reads (ids of all three kinds, `user_id` null when the
 * app may not read it).
 */
export function chatMembersEvent(p: ChatEventParams & { change: 'added' | 'deleted' | 'withdrawn'; userIds: string[] }): object {
  return {
    schema: '2.0',
    header: header({ ...p, eventType: `im.chat.member.user.${p.change}_v1`, createTime: p.createTime ?? Date.now() }),
    event: {
      chat_id: p.chatId,
      external: false,
      operator_id: { open_id: 'ou_owner', union_id: 'on_owner', user_id: null },
      operator_tenant_key: 'tenant',
      users: p.userIds.map((openId) => ({ name: openId, tenant_key: 'tenant', user_id: { open_id: openId, union_id: `on_${openId}`, user_id: null } })),
    },
  };
}

/** `task.task.updated_v1`: a task this app created changed; `task_id` is the task's guid, `obj_type` what changed. */
export function taskUpdatedV1Event(p: { token: string; taskId: string; objType?: number; eventId?: string; appId?: string }): object {
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'task.task.updated_v1', createTime: Date.now() }),
    event: { task_id: p.taskId, obj_type: p.objType ?? 1 },
  };
}
