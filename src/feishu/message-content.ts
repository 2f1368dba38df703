import { CodedError, ErrorCode } from '../errors';

/**
 * What a chat message says, as one shape whatever the client sent: the words, with every mention written as its
 * placeholder key (`@_user_1`, `@_all`), and the mentions those keys stand for. A plain message is `text`; the same
 * command typed with any formatting (bold, a line break, a pasted link) arrives as a rich-text `post`.
 */

export interface Mention {
  key: string;
  /** Absent for `@_all` and for anyone Feishu did not name by open_id. */
  openId?: string | undefined;
  name: string;
}

export interface MessageText {
  text: string;
  mentions: Mention[];
}

export class MessageContentError extends CodedError {
  readonly code = ErrorCode.MessageContentInvalid;
}

/**
 * The words of a `text` or `post` message; undefined for every other message type (images, files, cards, …).
 * `whole`: a post's title and code blocks too, as a message read for its words (a to-do from it); without, only what
 * a command can be written in.
 */
export function readMessageText(messageType: string, content: string, mentions: Mention[], { whole = false } = {}): MessageText | undefined {
  if (messageType === 'text') {
    const text = (parseJson(content) as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new MessageContentError('message.content has no text');
    return { text, mentions };
  }
  if (messageType === 'post') return readPost(parseJson(content), mentions, whole);
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
 * How many elements of a post are read; the rest give nothing. A command is a line or two (a to-do is at most 500
 * characters, 50 assignees); a post of thousands of elements is not one, and reading it all would hand the bot
 * thousands of mentions to look at.
 */
export const POST_ELEMENT_LIMIT = 1_000;

/**
 * A post's paragraphs, each a line: `text` and `a` (a link, read as its text) give words, `at` gives the mention's
 * key; images, media, emoji, code blocks and the rest give nothing. A received post is `{title, content}`; one
 * wrapped in a language (`{"zh_cn": {title, content}}`, as posts are sent) is read from its first language.
 * At most POST_ELEMENT_LIMIT elements are read, each in constant time.
 */
function readPost(parsed: unknown, mentions: Mention[], whole: boolean): MessageText | undefined {
  const post = postBody(parsed);
  if (!post) return undefined;
  const keys = new MentionKeys(mentions);
  let budget = POST_ELEMENT_LIMIT;
  const title = whole ? stringOr(post.title).trim() : '';
  const lines: string[] = title === '' ? [] : [title];
  for (const paragraph of post.content) {
    if (budget <= 0) break;
    const elements = Array.isArray(paragraph) ? paragraph.slice(0, budget) : [];
    budget -= Math.max(1, elements.length);
    lines.push(elements.map((element) => (isObject(element) ? elementText(element, keys, whole) : '')).join(''));
  }
  return { text: lines.join('\n'), mentions: keys.mentions };
}

function postBody(parsed: unknown): { title?: unknown; content: unknown[] } | undefined {
  if (!isObject(parsed)) return undefined;
  if (Array.isArray(parsed.content)) return { title: parsed.title, content: parsed.content };
  for (const body of Object.values(parsed)) {
    if (isObject(body) && Array.isArray(body.content)) return { title: body.title, content: body.content };
  }
  return undefined;
}

function elementText(element: Element, keys: MentionKeys, whole: boolean): string {
  switch (element.tag) {
    case 'text':
      return stringOr(element.text);
    case 'a':
      return stringOr(element.text) || stringOr(element.href);
    case 'at':
      return keys.keyOf(element);
    case 'code_block':
      return whole ? stringOr(element.text) : '';
    default:
      return '';
  }
}

const PLACEHOLDER = /^@_user_(\d+)$/;

/** A mention's key where it stands in a message's words: `@_user_1`, or `@_all` for everyone. */
export const MENTION_KEY_PATTERN = String.raw`@_(?:user_\d+|all)(?![A-Za-z0-9_])`;

/**
 * A received post names the mentioned person by the same placeholder as the message's `mentions` (`@_user_1`), and
 * everyone by `@_all` (or `all`). Any other id (an open_id, as some clients write it) gets a placeholder of its own,
 * numbered after the highest one in use, so the rest of the bot reads posts exactly as it reads text. The ids and
 * the highest number are kept as they grow: each element is one look-up, whatever came before it.
 */
class MentionKeys {
  readonly mentions: Mention[];
  private readonly byId = new Map<string, string>();
  private highest = 0;

  constructor(given: readonly Mention[]) {
    this.mentions = [];
    for (const mention of given) this.add(mention);
  }

  keyOf(element: Element): string {
    const id = stringOr(element.user_id);
    if (id === '@_all' || id === 'all') return '@_all';
    if (PLACEHOLDER.test(id)) return id;
    if (id === '') return '';
    const known = this.byId.get(id);
    if (known !== undefined) return known;
    const key = `@_user_${this.highest + 1}`;
    this.add({ key, ...(id.startsWith('ou_') && { openId: id }), name: stringOr(element.user_name) });
    this.byId.set(id, key);
    return key;
  }

  private add(mention: Mention): void {
    this.mentions.push(mention);
    // The first mention with a key or an open_id names it, as a search from the front would find it.
    if (!this.byId.has(mention.key)) this.byId.set(mention.key, mention.key);
    if (mention.openId !== undefined && !this.byId.has(mention.openId)) this.byId.set(mention.openId, mention.key);
    this.highest = Math.max(this.highest, Number(PLACEHOLDER.exec(mention.key)?.[1] ?? 0));
  }
}

const isObject = (value: unknown): value is Element => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOr = (value: unknown): string => (typeof value === 'string' ? value : '');
