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

function header(p: { token: string; eventType: string; eventId?: string; appId?: string; createTime: number }) {
  return {
    event_id: p.eventId ?? randomHex(16),
    event_type: p.eventType,
    create_time: String(p.createTime),
    token: p.token,
    app_id: p.appId ?? DEFAULT_APP_ID,
    tenant_key: TENANT_KEY,
  };
}

export function messageEvent(p: {
  token: string;
  chatId?: string;
  chatType?: 'group' | 'p2p';
  senderId: string;
  text: string;
  mentions?: Array<{ key: string; openId: string; name: string }>;
  parentId?: string;
  eventId?: string;
  messageId?: string;
  createTime?: number;
  appId?: string;
}): object {
  const createTime = p.createTime ?? Date.now();
  const mentions = (p.mentions ?? []).map((m) => ({
    key: m.key,
    id: userIds(m.openId),
    name: m.name,
    tenant_key: TENANT_KEY,
  }));
  return {
    schema: '2.0',
    header: header({ ...p, eventType: 'im.message.receive_v1', createTime }),
    event: {
      sender: { sender_id: userIds(p.senderId), sender_type: 'user', tenant_key: TENANT_KEY },
      message: {
        message_id: p.messageId ?? `om_${randomHex(16)}`,
        // Feishu leaves these out of messages that are not replies, and `mentions` out when nobody is mentioned.
        ...(p.parentId !== undefined && { root_id: p.parentId, parent_id: p.parentId }),
        create_time: String(createTime),
        update_time: String(createTime),
        chat_id: p.chatId ?? 'oc_group',
        chat_type: p.chatType ?? 'group',
        message_type: 'text',
        content: JSON.stringify({ text: p.text }),
        ...(mentions.length > 0 && { mentions }),
      },
    },
  };
}

export function cardActionEvent(p: {
  token: string;
  operatorId: string;
  chatId?: string;
  messageId: string;
  value: Record<string, unknown>;
  name?: string;
  tag?: string;
  formValue?: Record<string, unknown>;
  timezone?: string;
  eventId?: string;
  appId?: string;
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
        value: p.value,
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
