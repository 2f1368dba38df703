import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/bot/commands';
import { CommandRouter } from '../../src/bot/router';
import type { MessageEvent } from '../../src/feishu/events';

describe('parseMessage', () => {
  it('reads a command after the bot mention', () => {
    expect(parseMessage('@_user_1 /todo Ship the release notes')).toEqual({ kind: 'command', name: 'todo', args: 'Ship the release notes' });
  });

  it('reads a command without a mention, case-insensitively', () => {
    expect(parseMessage('/HELP')).toEqual({ kind: 'command', name: 'help', args: '' });
  });

  it('strips mention keys anywhere in the text', () => {
    expect(parseMessage('/todo @_user_2 check   the build @_user_3')).toEqual({ kind: 'command', name: 'todo', args: 'check the build' });
  });

  it('strips @_all (a mention of everyone) like any mention', () => {
    expect(parseMessage('@_all @_user_1 /todos')).toEqual({ kind: 'command', name: 'todos', args: '' });
    expect(parseMessage('@_user_1 @_all')).toEqual({ kind: 'mention-only' });
    expect(parseMessage('/todo call @_all now')).toEqual({ kind: 'command', name: 'todo', args: 'call now' });
    expect(parseMessage('@_allies /todo')).toEqual({ kind: 'chatter', text: '@_allies /todo' });
  });

  it('keeps multi-line arguments as one line of words', () => {
    expect(parseMessage('/todo first\nsecond')).toEqual({ kind: 'command', name: 'todo', args: 'first second' });
  });

  it('sees a bare mention as a call for help', () => {
    expect(parseMessage('@_user_1')).toEqual({ kind: 'mention-only' });
    expect(parseMessage('  ')).toEqual({ kind: 'mention-only' });
  });

  it('tells chatter from commands', () => {
    expect(parseMessage('@_user_1 hello there')).toEqual({ kind: 'chatter', text: 'hello there' });
    expect(parseMessage('/ not a command')).toEqual({ kind: 'chatter', text: '/ not a command' });
    expect(parseMessage('a/todo')).toEqual({ kind: 'chatter', text: 'a/todo' });
  });
});

describe('which messages may concern the bot', () => {
  const message = (p: Partial<MessageEvent>): MessageEvent => ({
    type: 'message',
    eventId: 'e',
    messageId: 'm',
    chatId: 'c',
    chatType: 'group',
    senderId: 'ou_x',
    senderIsUser: true,
    text: 'lunch?',
    mentions: [],
    ...p,
  });

  it('keeps commands, mentions of the bot and direct chats; drops group chatter, bots and non-text', () => {
    const bot = { key: '@_user_1', openId: 'ou_bot', name: 'Bot' };
    const colleague = { key: '@_user_1', openId: 'ou_alice', name: 'Alice' };
    expect(CommandRouter.concernsBot(message({ text: '/todo x' }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 /todo x', mentions: [colleague] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ mentions: [bot] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ chatType: 'p2p' }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({}), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '/todo', senderIsUser: false }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: undefined, chatType: 'p2p' }), 'ou_bot')).toBe(false);
  });

  it('drops chatter that mentions someone else, and cannot tell before it knows its own open_id', () => {
    const colleague = { key: '@_user_1', openId: 'ou_alice', name: 'Alice' };
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 lunch?', mentions: [colleague] }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 lunch?', mentions: [colleague] }), undefined)).toBeUndefined();
    expect(CommandRouter.concernsBot(message({ text: 'lunch?' }), undefined)).toBe(false);
    // @_all names nobody: chatter that only mentions everyone is not for the bot.
    expect(CommandRouter.concernsBot(message({ text: '@_all lunch?', mentions: [{ key: '@_all', name: 'Everyone' }] }), undefined)).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '@_all @_user_1 /todos', mentions: [{ key: '@_all', name: 'Everyone' }, { key: '@_user_1', openId: 'ou_bot', name: 'Bot' }] }), 'ou_bot')).toBe(true);
  });
});
