import type { Language } from '../domain/languages';
import { MENTION_KEY_PATTERN } from '../feishu/message-content';

/**
 * What a chat message asks of the bot. Pure: text and mentions in, a request out. Mention keys (`@_user_1`, and
 * `@_all` for everyone) before the command are stripped, so `@Bot /todo x`, `/todo x` and `@_all @Bot /todo x` read
 * alike; after it, a person's is part of the text (`/todo ask @_user_2 about it` reads "ask @Bea about it").
 */

export type ParsedMessage =
  | { kind: 'command'; name: string; args: string }
  /** Only mentions, no words: someone called the bot by name. */
  | { kind: 'mention-only' }
  /** Words that are not a command. */
  | { kind: 'chatter'; text: string };

/** Every command's name in each language; both names run the same handler. */
export const COMMAND_NAMES = {
  todo: { en_us: 'todo', zh_cn: '待办' },
  todos: { en_us: 'todos', zh_cn: '待办列表' },
  recall: { en_us: 'recall', zh_cn: '撤回' },
  help: { en_us: 'help', zh_cn: '帮助' },
  lang: { en_us: 'lang', zh_cn: '语言' },
  settings: { en_us: 'settings', zh_cn: '设置' },
} as const satisfies Record<string, Record<Language, string>>;

export type CommandId = keyof typeof COMMAND_NAMES;

const MENTION_KEY = new RegExp(MENTION_KEY_PATTERN, 'g');
/** The mentions a message starts with: whom it is addressed to, never part of the words. */
const LEADING_MENTIONS = new RegExp(String.raw`^(?:\s*${MENTION_KEY_PATTERN})+`);
const PERSON_KEY = /@_user_\d+/g;
/** `/todo x`, `/todo@Bot x`, `/todo: x` and `/todo，x`, and `/todo提交周报` (Chinese needs no space after a name). */
const LATIN_COMMAND = /^[/／]([A-Za-z][\w-]*)(?:@\S+)?(?:(?:\s|\s*[:：,，])\s*([\s\S]*))?$/u;
const LATIN_THEN_CHINESE = /^[/／]([A-Za-z][\w-]*)(\p{Script=Han}[\s\S]*)$/u;
const CHINESE_COMMAND = /^[/／](\p{Script=Han}+)([\s\S]*)$/u;
/** What may stand between a command's name and its text: `/待办：买牛奶`. */
const LEADING_SEPARATOR = /^\s*[:：,，]/;
/** A Chinese input method in Chinese punctuation mode types `、` for `/`; it starts a command only before a known name. */
const IME_SLASH = /^、/;

const CHINESE_NAMES = Object.values(COMMAND_NAMES)
  .map((names) => names.zh_cn as string)
  .sort((a, b) => b.length - a.length);
const KNOWN_NAMES = new Set(Object.values(COMMAND_NAMES).flatMap((names) => [names.en_us as string, names.zh_cn as string]));

/**
 * Whether a text could be a command: every command starts with `/`, `／` or `、` once mentions are stripped. Most
 * group chatter has none of them, and is told apart by this alone, without the mention stripping and the regexes.
 */
export function mayBeCommand(text: string): boolean {
  return text.includes('/') || text.includes('／') || text.includes('、');
}

/**
 * `names`: the people mentioned, by key (not the bot, nor everyone): after the first words their mentions stay in the
 * text as `@Name`. Without it every mention is stripped, as when only the command matters.
 */
export function parseMessage(text: string, names?: ReadonlyMap<string, string>): ParsedMessage {
  const afterLead = text.replace(LEADING_MENTIONS, '');
  const stripped = afterLead
    .replace(MENTION_KEY, (key) => {
      const name = names?.get(key);
      return name === undefined ? ' ' : ` @${name} `;
    })
    .replace(/\s+/g, ' ')
    .trim();
  if (stripped === '') return { kind: 'mention-only' };
  const command = readCommand(stripped) ?? (IME_SLASH.test(stripped) ? knownOnly(readCommand(stripped.replace(IME_SLASH, '/'))) : undefined);
  return command ?? { kind: 'chatter', text: stripped };
}

function readCommand(text: string): ParsedMessage | undefined {
  const latin = LATIN_COMMAND.exec(text) ?? LATIN_THEN_CHINESE.exec(text);
  if (latin) return { kind: 'command', name: (latin[1] as string).toLowerCase(), args: (latin[2] ?? '').trim() };
  const chinese = CHINESE_COMMAND.exec(text);
  if (!chinese) return undefined;
  // Chinese is written without spaces: `/待办列表我的` is `/待办列表 我的`, the longest known name first.
  const run = chinese[1] as string;
  const name = CHINESE_NAMES.find((known) => run.startsWith(known)) ?? run;
  return { kind: 'command', name, args: `${run.slice(name.length)}${chinese[2] ?? ''}`.replace(LEADING_SEPARATOR, '').trim() };
}

function knownOnly(parsed: ParsedMessage | undefined): ParsedMessage | undefined {
  return parsed?.kind === 'command' && isKnownCommand(parsed.name) ? parsed : undefined;
}

/** Whether `name` is one of the bot's commands, in either language. */
export function isKnownCommand(name: string): boolean {
  return KNOWN_NAMES.has(name);
}

/** The keys of the people a message starts by mentioning (`@_user_2 /help`, `@_all @_user_2 /help`: addressed to them). */
export function leadingMentionKeys(text: string): string[] {
  return LEADING_MENTIONS.exec(text)?.[0].match(PERSON_KEY) ?? [];
}
