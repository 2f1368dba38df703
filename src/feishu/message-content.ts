import { CodedError, ErrorCode } from '../errors';

/**
 * What a chat message says, as one shape whatever the client sent: the words, with every mention written as its
 * placeholder key (`@_user_1`, `@_all`), and the mentions those keys stand for. A plain message is `text`; the same
 * command typed with any formatting (bold, a line break, a pasted link) arrives as a rich-text `post`.
 */

export interface Mention {
  key: string;
  /** Absent for `@_all` and for anyone Feishu did not name by open_id. */
  openId?: string;
  name: string;
}

export interface MessageText {
  text: string;
  mentions: Mention[];
}

export class MessageContentError extends CodedError {
  readonly code = ErrorCode.MessageContentInvalid;
}

/** The words of a `text` or `post` message; undefined for every other message type (images, files, cards, …). */
export function readMessageText(messageType: string, content: string, mentions: Mention[]): MessageText | undefined {
  if (messageType === 'text') {
    const text = (parseJson(content) as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new MessageContentError('message.content has no text');
    return { text, mentions };
  }
  if (messageType === 'post') return readPost(parseJson(content), mentions);
  return undefined;
}

function parseJson(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    throw new MessageContentError('message.content is not JSON');
  }
}

type Element = Record<string, unknown>;

/**
 * A post's paragraphs, each a line: `text` and `a` (a link, read as its text) give words, `at` gives the mention's
 * key; images, media, emoji, code blocks and the rest give nothing. A received post is `{title, content}`; one
 * wrapped in a language (`{"zh_cn": {title, content}}`, as posts are sent) is read from its first language.
 */
function readPost(parsed: unknown, mentions: Mention[]): MessageText | undefined {
  const paragraphs = postParagraphs(parsed);
  if (!paragraphs) return undefined;
  const known = [...mentions];
  const lines = paragraphs.map((paragraph) =>
    (Array.isArray(paragraph) ? paragraph : [])
      .map((element) => (isObject(element) ? elementText(element, known) : ''))
      .join(''),
  );
  return { text: lines.join('\n'), mentions: known };
}

function postParagraphs(parsed: unknown): unknown[] | undefined {
  if (!isObject(parsed)) return undefined;
  if (Array.isArray(parsed.content)) return parsed.content;
  for (const body of Object.values(parsed)) {
    if (isObject(body) && Array.isArray(body.content)) return body.content;
  }
  return undefined;
}

function elementText(element: Element, mentions: Mention[]): string {
  switch (element.tag) {
    case 'text':
      return stringOr(element.text);
    case 'a':
      return stringOr(element.text) || stringOr(element.href);
    case 'at':
      return mentionKey(element, mentions);
    default:
      return '';
  }
}

const PLACEHOLDER = /^@_user_\d+$/;

/**
 * A received post names the mentioned person by the same placeholder as the message's `mentions` (`@_user_1`), and
 * everyone by `@_all` (or `all`). Any other id (an open_id, as some clients write it) gets a placeholder of its own,
 * so the rest of the bot reads posts exactly as it reads text.
 */
function mentionKey(element: Element, mentions: Mention[]): string {
  const id = stringOr(element.user_id);
  if (id === '@_all' || id === 'all') return '@_all';
  if (PLACEHOLDER.test(id)) return id;
  if (id === '') return '';
  const named = mentions.find((m) => m.key === id || m.openId === id);
  if (named) return named.key;
  const key = `@_user_${1 + Math.max(0, ...mentions.map((m) => Number(/^@_user_(\d+)$/.exec(m.key)?.[1] ?? 0)))}`;
  mentions.push({ key, ...(id.startsWith('ou_') && { openId: id }), name: stringOr(element.user_name) });
  return key;
}

const isObject = (value: unknown): value is Element => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOr = (value: unknown): string => (typeof value === 'string' ? value : '');
