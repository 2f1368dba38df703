import { describe, expect, it } from 'vitest';
import { mayBeCommand, parseMessage } from '../../src/bot/commands';
import { languageOfMessage } from '../../src/bot/language';
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

  it('keeps a person mentioned in the text, by name, when it knows the names', () => {
    const names = new Map([
      ['@_user_2', 'Bea'],
      ['@_user_3', 'Chen Li'],
    ]);
    expect(parseMessage('@_user_1 /todo ask @_user_2 about the budget', names)).toEqual({ kind: 'command', name: 'todo', args: 'ask @Bea about the budget' });
    expect(parseMessage('/todo review the PR@_user_3', names)).toEqual({ kind: 'command', name: 'todo', args: 'review the PR @Chen Li' });
    // Mentions before the command say whom it is for, and are never part of it.
    expect(parseMessage('@_user_2 @_user_1 /todo x', names)).toEqual({ kind: 'command', name: 'todo', args: 'x' });
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

  it('reads the Chinese commands, with or without a space after the name', () => {
    expect(parseMessage('@_user_1 /待办 明天下午3点 提交周报')).toEqual({ kind: 'command', name: '待办', args: '明天下午3点 提交周报' });
    expect(parseMessage('/待办明天下午3点 提交周报')).toEqual({ kind: 'command', name: '待办', args: '明天下午3点 提交周报' });
    expect(parseMessage('/待办列表 我的')).toEqual({ kind: 'command', name: '待办列表', args: '我的' });
    expect(parseMessage('/待办列表我的')).toEqual({ kind: 'command', name: '待办列表', args: '我的' });
    expect(parseMessage('/撤回')).toEqual({ kind: 'command', name: '撤回', args: '' });
    expect(parseMessage('/语言 英文')).toEqual({ kind: 'command', name: '语言', args: '英文' });
    expect(parseMessage('/帮助')).toEqual({ kind: 'command', name: '帮助', args: '' });
    expect(parseMessage('/你好')).toEqual({ kind: 'command', name: '你好', args: '' });
    expect(parseMessage('/todo提交周报')).toEqual({ kind: 'command', name: 'todo', args: '提交周报' });
  });

  it('takes the slash a Chinese input method types: ／ always, 、 only before a known name', () => {
    expect(parseMessage('／待办 开会')).toEqual({ kind: 'command', name: '待办', args: '开会' });
    expect(parseMessage('／todos')).toEqual({ kind: 'command', name: 'todos', args: '' });
    expect(parseMessage('、待办列表')).toEqual({ kind: 'command', name: '待办列表', args: '' });
    expect(parseMessage('、help')).toEqual({ kind: 'command', name: 'help', args: '' });
    expect(parseMessage('、还有一件事')).toEqual({ kind: 'chatter', text: '、还有一件事' });
  });

  it('reads a colon or comma after the name, half- or full-width, as the space it stands for', () => {
    expect(parseMessage('/todo：买牛奶')).toEqual({ kind: 'command', name: 'todo', args: '买牛奶' });
    expect(parseMessage('/todo: buy milk')).toEqual({ kind: 'command', name: 'todo', args: 'buy milk' });
    expect(parseMessage('/todo, buy milk')).toEqual({ kind: 'command', name: 'todo', args: 'buy milk' });
    expect(parseMessage('/待办：买牛奶')).toEqual({ kind: 'command', name: '待办', args: '买牛奶' });
    expect(parseMessage('/待办 ，买牛奶')).toEqual({ kind: 'command', name: '待办', args: '买牛奶' });
    // Punctuation inside the text stays.
    expect(parseMessage('/todo note: call Bea')).toEqual({ kind: 'command', name: 'todo', args: 'note: call Bea' });
  });

  it('tells chatter from commands', () => {
    expect(parseMessage('@_user_1 hello there')).toEqual({ kind: 'chatter', text: 'hello there' });
    expect(parseMessage('/ not a command')).toEqual({ kind: 'chatter', text: '/ not a command' });
    expect(parseMessage('a/todo')).toEqual({ kind: 'chatter', text: 'a/todo' });
  });
});

describe('mayBeCommand, the shortcut for chatter', () => {
  it('is true of every text that parses as a command, and false of chatter without a slash', () => {
    const commands = ['/todo x', '／待办 周报', '、待办列表', '@_user_1 /help', '/todo@Bot x', '@_all\n/todos', '/设置'];
    for (const text of commands) {
      expect(parseMessage(text).kind, text).toBe('command');
      expect(mayBeCommand(text), text).toBe(true);
    }
    for (const text of ['lunch?', '@_user_1 see you at 3', '午饭吃什么', '@_all 周报今天交']) {
      expect(mayBeCommand(text), text).toBe(false);
      expect(parseMessage(text).kind, text).not.toBe('command');
    }
  });
});

describe('the language a message is written in', () => {
  it.each([
    ['/待办 提交周报', 'zh_cn'],
    ['/帮助', 'zh_cn'],
    ['/todo 提交周报', 'zh_cn'],
    ['/todo submit the report', 'en_us'],
    ['/todos mine', 'en_us'],
    ['@_user_1 你好', 'zh_cn'],
    ['@_user_1 hello', 'en_us'],
    // The English names are what everyone types: alone they say nothing, and the chat's setting decides.
    ['/todos', undefined],
    ['/help', undefined],
    ['/todo 10:00', undefined],
    ['@_user_1', undefined],
  ] as const)('%s → %s', (text, lang) => {
    expect(languageOfMessage(parseMessage(text))).toBe(lang);
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
    const colleague = { key: '@_user_2', openId: 'ou_alice', name: 'Alice' };
    expect(CommandRouter.concernsBot(message({ text: '/todo x' }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ text: '/todo ask @_user_2 x', mentions: [colleague] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 /todo x', mentions: [bot] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ mentions: [bot] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ chatType: 'p2p' }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({}), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '/todo', senderIsUser: false }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: undefined, chatType: 'p2p' }), 'ou_bot')).toBe(false);
  });

  it('leaves another bot’s commands alone: addressed to someone else, or a name the bot does not know without its mention', () => {
    const otherBot = { key: '@_user_1', openId: 'ou_other_bot', name: 'Weather Bot' };
    const bot = { key: '@_user_2', openId: 'ou_bot', name: 'Bot' };
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 /help', mentions: [otherBot] }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '/shrug' }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 /ask rain?', mentions: [otherBot] }), 'ou_bot')).toBe(false);
    // Named with the bot, an unknown command is answered (with the list of the bot's own).
    expect(CommandRouter.concernsBot(message({ text: '@_user_2 /shrug', mentions: [bot] }), 'ou_bot')).toBe(true);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 @_user_2 /help', mentions: [otherBot, bot] }), 'ou_bot')).toBe(true);
    // Everyone first, then the other bot: still addressed to it.
    expect(CommandRouter.concernsBot(message({ text: '@_all @_user_1 /help', mentions: [{ key: '@_all', name: 'all' }, otherBot] }), 'ou_bot')).toBe(false);
  });

  it('drops chatter that mentions someone else, and cannot tell before it knows its own open_id', () => {
    const colleague = { key: '@_user_1', openId: 'ou_alice', name: 'Alice' };
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 lunch?', mentions: [colleague] }), 'ou_bot')).toBe(false);
    expect(CommandRouter.concernsBot(message({ text: '@_user_1 lunch?', mentions: [colleague] }), undefined)).toBeUndefined();
    expect(CommandRouter.concernsBot(message({ text: 'lunch?' }), undefined)).toBe(false);
    // @_all names nobody: chatter that only mentions everyone is not for the bot.
    expect(CommandRouter.concernsBot(message({ text: '@_all lunch?', mentions: [{ key: '@_all', name: 'Everyone' }] }), undefined)).toBe(false);
    expect(
      CommandRouter.concernsBot(
        message({
          text: '@_all @_user_1 /todos',
          mentions: [
            { key: '@_all', name: 'Everyone' },
            { key: '@_user_1', openId: 'ou_bot', name: 'Bot' },
          ],
        }),
        'ou_bot',
      ),
    ).toBe(true);
  });
});
