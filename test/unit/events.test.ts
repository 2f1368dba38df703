import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/bot/commands';
import { type CardActionEvent, EventShapeError, type MessageEvent, parseEvent } from '../../src/feishu/events';

/**
 * Payloads copied from Feishu's SDKs' test suites and documentation (each file names its source), replayed through
 * the parser, plus the shapes real clients send that the emulator's own builders do not cover.
 */

const FIXTURES = new URL('../fixtures/events/', import.meta.url);

interface Fixture {
  source: string;
  payload: Record<string, unknown>;
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture;
}

const message = (name: string) => parseEvent(fixture(name).payload) as MessageEvent;
const click = (name: string) => parseEvent(fixture(name).payload) as CardActionEvent;

describe('the event fixtures', () => {
  it('each names its source and parses', () => {
    const names = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) {
      const { source, payload } = fixture(name);
      expect(source, name).toMatch(/\S{10,}/);
      expect(['message', 'card_action'], name).toContain(parseEvent(payload).type);
    }
  });
});

describe('messages', () => {
  it('a text message with a mention (larksuite/cli)', () => {
    expect(message('message-text-mentions.json')).toEqual({
      type: 'message',
      eventId: 'ev_test_text',
      messageId: 'om_text_001',
      chatId: 'oc_chat',
      chatType: 'p2p',
      senderId: 'ou_sender',
      senderIsUser: true,
      parentId: 'om_parent_001',
      threadId: 'omt_thread_001',
      text: 'hello @_user_1',
      mentions: [{ key: '@_user_1', openId: 'ou_mentioned', name: 'Alice' }],
      // The message's own create_time (when it was sent), not the header's (when Feishu made the event).
      sentAt: 1776409468987,
    });
  });

  it('reads when a message was sent however its create_time is written, and never refuses a message for it', () => {
    const { payload } = fixture('message-text-mentions.json');
    const sentAs = (createTime: unknown) => {
      const event = payload.event as { message: Record<string, unknown> };
      return (parseEvent({ ...payload, event: { ...event, message: { ...event.message, create_time: createTime } } }) as MessageEvent).sentAt;
    };
    expect(sentAs(1776409468987)).toBe(1776409468987);
    expect(sentAs(null)).toBeUndefined();
    expect(sentAs('soon')).toBeUndefined();
    expect((parseEvent({ ...payload, header: { ...(payload.header as object), create_time: 17 } }) as MessageEvent).type).toBe('message');
  });

  it('a card message has no words for the bot', () => {
    const card = message('message-interactive.json');
    expect(card.text).toBeUndefined();
    expect(card.senderIsUser).toBe(true);
  });

  it('a rich-text command reads as the same text command: "@Bot /todo Ship it" in bold (issue 12)', () => {
    const post = message('message-post-command.json');
    expect(post.text).toBe('@_user_1 /todo Ship it');
    expect(post.mentions).toEqual([{ key: '@_user_1', openId: 'ou_bot', name: 'Bot' }]);
    expect(parseMessage(post.text as string)).toEqual({ kind: 'command', name: 'todo', args: 'Ship it' });
  });

  it('a post wrapped in a language: every paragraph a line, a link as its text, a name-only "at" as nothing', () => {
    expect(message('message-post-locale.json').text).toBe('Hello \nSpec');
  });

  it('a post naming an open_id in its "at" gets a placeholder and a mention, and its image is ignored', () => {
    const post = message('message-post-at-open-id.json');
    expect(post.text).toBe('@_user_1 ');
    expect(post.mentions).toEqual([{ key: '@_user_1', openId: 'ou_xxx', name: 'Bob' }]);
  });

  it('@_all before a command: a mention of nobody in particular, stripped like any mention', () => {
    const all = message('message-at-all.json');
    expect(all.mentions).toEqual([
      { key: '@_all', name: '所有人' },
      { key: '@_user_1', openId: 'ou_bot', name: 'Bot' },
    ]);
    expect(parseMessage(all.text as string)).toEqual({ kind: 'command', name: 'todos', args: '' });
  });

  it('reads @_all however its ids are written, and a mention given as a bare id string', () => {
    const base = fixture('message-at-all.json').payload as { event: { message: Record<string, unknown> } };
    const withMentions = (mentions: unknown[]) =>
      (parseEvent({ ...base, event: { ...base.event, message: { ...base.event.message, mentions } } }) as MessageEvent).mentions;
    expect(withMentions([{ key: '@_all', id: { open_id: 'all' }, name: '所有人' }])).toEqual([{ key: '@_all', name: '所有人' }]);
    expect(withMentions([{ key: '@_all', name: '所有人' }])).toEqual([{ key: '@_all', name: '所有人' }]);
    expect(withMentions([{ key: '@_user_1', id: 'ou_alice' }])).toEqual([{ key: '@_user_1', openId: 'ou_alice', name: '' }]);
  });

  it('a post with every paragraph and element kind: text, links, mentions, line breaks; the rest ignored', () => {
    const base = fixture('message-post-command.json').payload as { event: { message: Record<string, unknown> } };
    const content = JSON.stringify({
      en_us: {
        title: 'ignored title',
        content: [
          [
            { tag: 'at', user_id: '@_all' },
            { tag: 'text', text: ' ' },
            { tag: 'at', user_id: '@_user_1', user_name: 'Bot' },
            { tag: 'text', text: ' /todo Read' },
          ],
          [
            { tag: 'a', text: 'the spec', href: 'https://example.com' },
            { tag: 'emotion', emoji_type: 'SMILE' },
            { tag: 'img', image_key: 'img_1' },
          ],
          [{ tag: 'a', href: 'https://example.com/bare' }, { tag: 'code_block', text: 'rm -rf /' }, 'not an element', { tag: 'text', text: 42 }],
        ],
      },
    });
    const post = parseEvent({ ...base, event: { ...base.event, message: { ...base.event.message, content } } }) as MessageEvent;
    expect(post.text).toBe('@_all @_user_1 /todo Read\nthe spec\nhttps://example.com/bare');
    expect(parseMessage(post.text as string)).toEqual({ kind: 'command', name: 'todo', args: 'Read the spec https://example.com/bare' });
  });

  it('a post of an unknown shape has no words; content that is not JSON is refused', () => {
    const base = fixture('message-post-command.json').payload as { event: { message: Record<string, unknown> } };
    const withContent = (content: string) => parseEvent({ ...base, event: { ...base.event, message: { ...base.event.message, content } } }) as MessageEvent;
    expect(withContent('{"zh_cn":"nope"}').text).toBeUndefined();
    expect(withContent('[]').text).toBeUndefined();
    expect(() => withContent('{not json')).toThrow(EventShapeError);
  });
});

describe('card callbacks', () => {
  it('a button click (larksuite/cli)', () => {
    expect(click('card-action-button.json')).toEqual({
      type: 'card_action',
      eventId: 'ev_btn_001',
      operatorId: 'ou_operator',
      chatId: 'oc_chat_001',
      messageId: 'om_msg_001',
      value: { key: 'approve' },
      name: 'approve_btn',
      formValue: {},
      timeZone: undefined,
    });
  });

  it('a form submit with an empty value, known by its button name (larksuite/cli)', () => {
    const submit = click('card-action-form-submit.json');
    expect(submit).toMatchObject({ value: {}, name: 'submit_btn', formValue: { name: 'test-user', reason: 'testing' }, chatId: 'oc_chat_002' });
    expect(submit.timeZone).toBeUndefined();
  });

  it('a picker interaction carries the device zone, canonicalised at the edge', () => {
    expect(click('card-action-date-picker.json').timeZone).toBe('Asia/Shanghai');
    const base = fixture('card-action-date-picker.json').payload as { event: { action: Record<string, unknown> } };
    const withZone = (timezone: unknown) =>
      (parseEvent({ ...base, event: { ...base.event, action: { ...base.event.action, timezone } } }) as CardActionEvent).timeZone;
    expect(withZone('asia/SHANGHAI')).toBe('Asia/Shanghai');
    expect(withZone('US/Eastern')).toBe('America/New_York');
    expect(withZone('Mars/Olympus')).toBeUndefined();
    expect(withZone('x'.repeat(10_000))).toBeUndefined();
    expect(withZone(8)).toBeUndefined();
  });
});

describe('the bot’s membership of a chat', () => {
  const payload = (eventType: string) => ({
    schema: '2.0',
    header: { event_id: `ev_${eventType}`, event_type: eventType, create_time: '1776409469273' },
    // As the SDKs model them: the chat, who did it, and whether the chat is another organisation's.
    event: { chat_id: 'oc_team', operator_id: { open_id: 'ou_owner', union_id: 'on_owner', user_id: 'owner' }, external: false, operator_tenant_key: 'tk' },
  });

  it('reads the bot added, removed, and the chat disbanded, each naming its chat', () => {
    expect(parseEvent(payload('im.chat.member.bot.added_v1'))).toEqual({
      type: 'membership',
      eventId: 'ev_im.chat.member.bot.added_v1',
      chatId: 'oc_team',
      botPresent: true,
      at: 1776409469273,
    });
    expect(parseEvent(payload('im.chat.member.bot.deleted_v1'))).toMatchObject({ type: 'membership', chatId: 'oc_team', botPresent: false });
    expect(parseEvent(payload('im.chat.disbanded_v1'))).toMatchObject({ type: 'membership', chatId: 'oc_team', botPresent: false });
    expect(() => parseEvent({ ...payload('im.chat.disbanded_v1'), event: {} })).toThrow(EventShapeError);
  });
});
